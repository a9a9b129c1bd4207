using AiEdge.Middleware.Conformance;
using AiEdge.Middleware.RateLimiting;
using Microsoft.Extensions.Options;
using Defect = AiEdge.Middleware.RateLimiting.Tests.BrokenRateLimitStore.Defect;

namespace AiEdge.Middleware.RateLimiting.Tests;

/// <summary>The in-memory store passes the rate-limit store conformance kit, and every check of the kit can fail.</summary>
public sealed class RateLimitStoreConformanceTests
{
    private const int MaxBuckets = 64;

    private static IReadOnlyList<ConformanceCheck> InMemoryChecks() => RateLimitStoreConformance.Checks(new()
    {
        CreateStore = static () => new InMemoryRateLimitStore(
            Options.Create(new RateLimitingOptions { MaxPartitions = MaxBuckets, ExpirationScanInterval = TimeSpan.Zero }),
            TimeProvider.System),
        MaxBuckets = MaxBuckets,
    });

    public static TheoryData<string> CheckNames() => new(InMemoryChecks().Names());

    [Theory]
    [MemberData(nameof(CheckNames))]
    public Task InMemoryStore_PassesCheck(string check)
        => InMemoryChecks().Get(check).RunAsync();

    [Theory]
    [MemberData(nameof(CheckNames))]
    public Task ReferenceStoreWithoutDefect_PassesCheck(string check)
        => Checks(Defect.None).Get(check).RunAsync();

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
    public void Checks_OnOwnClockWithoutBound_LeaveOutTheChecksThatNeedThem()
    {
        var names = RateLimitStoreConformance.Checks(new() { CreateStore = static () => new BrokenRateLimitStore(Defect.None), UsesOwnClock = true }).Names();

        Assert.Equal(6, names.Count);
        Assert.DoesNotContain(names, static n => n.StartsWith("Requests:", StringComparison.Ordinal) || n.StartsWith("Clock:", StringComparison.Ordinal)
            || n.StartsWith("Expiry:", StringComparison.Ordinal) || n.StartsWith("Table full:", StringComparison.Ordinal));
        Assert.Equal(12, CheckNames().Count);
    }

    private static IReadOnlyList<ConformanceCheck> Checks(Defect defect) => RateLimitStoreConformance.Checks(new()
    {
        CreateStore = () => new BrokenRateLimitStore(defect, MaxBuckets),
        MaxBuckets = MaxBuckets,
        Timeout = TimeSpan.FromSeconds(defect == Defect.IgnoresLockOrder ? 3 : 30),
    });
}
