using AiEdge.Middleware.Conformance;
using AiEdge.Middleware.Testing;
using Microsoft.Extensions.Time.Testing;

namespace AiEdge.Middleware.Caching.Tests;

/// <summary>The in-memory store passes every check of the idempotency store conformance kit, on a fake clock.</summary>
public sealed class InMemoryIdempotencyStoreConformanceTests
{
    private readonly FakeTimeProvider _time = new(TestClock.Start);

    public static TheoryData<string> Checks => IdempotencyConformanceKit.Names(IdempotencyConformanceKit.InMemory(new FakeTimeProvider(TestClock.Start)));

    [Theory]
    [MemberData(nameof(Checks))]
    public Task InMemoryStore_PassesCheck(string check)
        => IdempotencyConformanceKit.Find(IdempotencyConformanceKit.InMemory(_time), check).RunAsync().WaitAsync(TimeSpan.FromSeconds(30));
}

/// <summary>Builds the kit's checks for the tests.</summary>
internal static class IdempotencyConformanceKit
{
    /// <summary>The size of one claim of the kit's keys in the in-memory store.</summary>
    public static readonly long ClaimSize = InMemoryIdempotencyStore.SlotSize(
        new string('k', IdempotencyStoreConformance.KeyLength),
        new byte[IdempotencyStoreConformance.FingerprintLength],
        new string('t', IdempotencyStoreConformance.TokenLength),
        null);

    /// <summary>The checks of in-memory stores on <paramref name="time"/>, wrapped by <paramref name="wrap"/> when given.</summary>
    public static IReadOnlyList<ConformanceCheck> InMemory(FakeTimeProvider time, Func<IIdempotencyStore, IIdempotencyStore>? wrap = null)
    {
        wrap ??= static store => store;
        return IdempotencyStoreConformance.Checks(new IdempotencyStoreConformanceOptions
        {
            CreateStore = () => wrap(new InMemoryIdempotencyStore(time)),
            CreateBoundedStore = () => wrap(new InMemoryIdempotencyStore(time, (2 * ClaimSize) - 1)),
            AdvanceTime = span =>
            {
                time.Advance(span);
                return ValueTask.CompletedTask;
            },
        });
    }

    public static TheoryData<string> Names(IReadOnlyList<ConformanceCheck> checks)
    {
        var names = new TheoryData<string>();
        foreach (var check in checks)
        {
            names.Add(check.Name);
        }

        return names;
    }

    public static ConformanceCheck Find(IReadOnlyList<ConformanceCheck> checks, string name)
        => checks.SingleOrDefault(check => check.Name == name) ?? throw new InvalidOperationException($"The kit has no check named \"{name}\".");
}
