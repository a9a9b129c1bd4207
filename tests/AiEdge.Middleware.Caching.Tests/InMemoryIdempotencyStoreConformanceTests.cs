using AiEdge.Middleware.Conformance;
using AiEdge.Middleware.Testing;
using Microsoft.Extensions.Time.Testing;

namespace AiEdge.Middleware.Caching.Tests;

/// <summary>The in-memory store passes every check of the idempotency store conformance kit, on a fake clock.</summary>
public sealed class InMemoryIdempotencyStoreConformanceTests
{
    private readonly FakeTimeProvider _time = new(TestClock.Start);

    public static TheoryData<string> Checks => new(IdempotencyConformanceKit.InMemory(new FakeTimeProvider(TestClock.Start)).Names());

    [Theory]
    [MemberData(nameof(Checks))]
    public Task InMemoryStore_PassesCheck(string check)
        => IdempotencyConformanceKit.InMemory(_time).Get(check).RunAsync().WaitAsync(TimeSpan.FromSeconds(30));
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
}
