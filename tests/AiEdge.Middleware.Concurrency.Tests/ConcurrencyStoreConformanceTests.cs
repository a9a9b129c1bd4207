using AiEdge.Middleware.Conformance;
using AiEdge.Middleware.Testing;
using Microsoft.Extensions.Time.Testing;

namespace AiEdge.Middleware.Concurrency.Tests;

/// <summary>The in-memory store keeps the <see cref="IConcurrencyStore"/> contract, on a fake clock.</summary>
public sealed class ConcurrencyStoreConformanceTests
{
    public static TheoryData<string> Checks => new(ConcurrencyStoreConformance.Checks(Options(new FakeTimeProvider())).Names());

    [Theory]
    [MemberData(nameof(Checks))]
    public Task InMemoryStore_PassesCheck(string name)
        => ConcurrencyStoreConformance.Checks(Options(new FakeTimeProvider(TestClock.Start))).Get(name).RunAsync();

    [Fact]
    public async Task InMemoryStore_ForgetsKeysWithoutLiveLeases_AtTheSweep()
    {
        var time = new FakeTimeProvider(TestClock.Start);
        var store = new InMemoryConcurrencyStore(time);
        var lease = await store.TryAcquireAsync("a", 1, TimeSpan.FromMinutes(10), CancellationToken.None);
        await store.TryAcquireAsync("b", 1, TimeSpan.FromMinutes(10), CancellationToken.None);
        await store.ReleaseAsync("a", lease.Id, CancellationToken.None);
        Assert.Equal(2, store.KeyCount);

        time.Advance(TimeSpan.FromMinutes(1));
        await store.TryAcquireAsync("c", 1, TimeSpan.FromMinutes(10), CancellationToken.None);
        Assert.Equal(2, store.KeyCount);
        Assert.Equal(1, await store.CountAsync("b", CancellationToken.None));
    }

    private static ConcurrencyStoreConformanceOptions Options(FakeTimeProvider time) => new()
    {
        CreateStore = () => new InMemoryConcurrencyStore(time),
        AdvanceTime = span =>
        {
            time.Advance(span);
            return ValueTask.CompletedTask;
        },
    };
}
