using AiEdge.Middleware.Conformance;
using AiEdge.Middleware.RateLimiting;
using Microsoft.Extensions.Options;
using Defect = AiEdge.Middleware.RateLimiting.Tests.BrokenRateLimitStore.Defect;

namespace AiEdge.Middleware.RateLimiting.Tests;

/// <summary>The in-memory store passes the rate-limit store conformance kit, and every check of the kit can fail.</summary>
public sealed class RateLimitStoreConformanceTests
{
    private const int MaxBuckets = 64;

    private static readonly RateLimitStoreConformanceOptions Bounded = new() { MaxBuckets = MaxBuckets };

    private static IReadOnlyList<ConformanceCheck> InMemoryChecks() => RateLimitStoreConformance.Checks(
        static () => new InMemoryRateLimitStore(
            Options.Create(new RateLimitingOptions { MaxPartitions = MaxBuckets, ExpirationScanInterval = TimeSpan.Zero }),
            TimeProvider.System),
        Bounded);

    public static TheoryData<string> CheckNames()
    {
        var names = new TheoryData<string>();
        foreach (var check in InMemoryChecks())
        {
            names.Add(check.Name);
        }

        return names;
    }

    [Theory]
    [MemberData(nameof(CheckNames))]
    public Task InMemoryStore_PassesCheck(string check)
        => InMemoryChecks().Single(c => c.Name == check).RunAsync();

    [Theory]
    [MemberData(nameof(CheckNames))]
    public Task ReferenceStoreWithoutDefect_PassesCheck(string check)
        => Checks(Defect.None).Single(c => c.Name == check).RunAsync();

    [Theory]
    [InlineData(Defect.FirstRequestCharged, "Requests: NGINX arithmetic")]
    [InlineData(Defect.NoDelay, "Requests: burst and delay")]
    [InlineData(Defect.NoGiveBack, "Tokens:")]
    [InlineData(Defect.NotAllOrNothing, "Batches: all-or-nothing")]
    [InlineData(Defect.NotAllOrNothing, "Lock order:")]
    [InlineData(Defect.BackwardsMovesLast, "Clock:")]
    [InlineData(Defect.ForgetsEarly, "Expiry:")]
    [InlineData(Defect.EvictsLive, "Table full: refusal")]
    [InlineData(Defect.NeverForgets, "Table full: only idle buckets")]
    [InlineData(Defect.Racy, "Concurrency: concurrent requests")]
    [InlineData(Defect.Racy, "Concurrency: concurrent reconciliations")]
    [InlineData(Defect.IgnoresLockOrder, "Lock order:")]
    [InlineData(Defect.PartialOnCancel, "Cancellation:")]
    public async Task BrokenStore_FailsTheCheckOfItsDefect(Defect defect, string check)
    {
        var error = await Assert.ThrowsAsync<ConformanceException>(() => Checks(defect).Single(c => c.Name.StartsWith(check, StringComparison.Ordinal)).RunAsync());
        Assert.False(string.IsNullOrWhiteSpace(error.Message));
    }

    [Fact]
    public void Checks_WithoutBatchClockOrBound_LeaveOutTheChecksThatNeedThem()
    {
        var names = RateLimitStoreConformance.Checks(static () => new BrokenRateLimitStore(Defect.None), new RateLimitStoreConformanceOptions { StoreDecidesOnBatchClock = false })
            .Select(static c => c.Name)
            .ToArray();

        Assert.Equal(6, names.Length);
        Assert.DoesNotContain(names, static n => n.StartsWith("Requests:", StringComparison.Ordinal) || n.StartsWith("Clock:", StringComparison.Ordinal)
            || n.StartsWith("Expiry:", StringComparison.Ordinal) || n.StartsWith("Table full:", StringComparison.Ordinal));
        Assert.Equal(12, CheckNames().Count);
    }

    private static IReadOnlyList<ConformanceCheck> Checks(Defect defect) => RateLimitStoreConformance.Checks(
        () => new BrokenRateLimitStore(defect, MaxBuckets),
        new RateLimitStoreConformanceOptions { MaxBuckets = MaxBuckets, Timeout = TimeSpan.FromSeconds(defect == Defect.IgnoresLockOrder ? 3 : 30) });
}
