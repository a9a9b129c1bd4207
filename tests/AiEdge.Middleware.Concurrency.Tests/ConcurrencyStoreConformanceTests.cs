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

    // On the store's own clock (a Redis server's), the kit cannot stop time: a host slower than a lease makes an
    // attempt prove nothing, and the kit runs it again; a store that breaks the contract still fails.
    private const string RenewCheck = "Renew: a renewed lease outlives its first expiry; a released lease is not renewed";

    [Fact]
    public async Task RealClock_AHostSlowerThanTheLease_RunsTheCheckAgain_AndTheStorePasses()
    {
        var store = new SlowFirstRenewal(new InMemoryConcurrencyStore(TimeProvider.System), TimeSpan.FromMilliseconds(600));

        await ConcurrencyStoreConformance.Checks(RealClock(() => store)).Get(RenewCheck).RunAsync();

        Assert.True(store.Acquisitions >= 2, $"The check ran {store.Acquisitions} time(s); the stalled first attempt should have been run again.");
    }

    [Fact]
    public async Task RealClock_AStoreThatNeverRenews_FailsTheCheck()
    {
        var store = new NeverRenews(new InMemoryConcurrencyStore(TimeProvider.System));

        var failure = await Assert.ThrowsAsync<ConformanceException>(() => ConcurrencyStoreConformance.Checks(RealClock(() => store)).Get(RenewCheck).RunAsync());

        Assert.Contains("RenewAsync of a live lease answered false", failure.Message, StringComparison.Ordinal);
    }

    private static ConcurrencyStoreConformanceOptions RealClock(Func<IConcurrencyStore> create) => new()
    {
        CreateStore = create,
        ShortDuration = TimeSpan.FromMilliseconds(100),
    };

    /// <summary>Answers its first renewal only after the lease it renews has run out (a host that stalled).</summary>
    private sealed class SlowFirstRenewal(IConcurrencyStore inner, TimeSpan stall) : CountingStore(inner)
    {
        private int _renewals;

        public override async ValueTask<bool> RenewAsync(string key, long leaseId, TimeSpan leaseDuration, CancellationToken cancellationToken)
        {
            if (Interlocked.Increment(ref _renewals) == 1)
            {
                await Task.Delay(stall, cancellationToken);
            }

            return await base.RenewAsync(key, leaseId, leaseDuration, cancellationToken);
        }
    }

    private sealed class NeverRenews(IConcurrencyStore inner) : CountingStore(inner)
    {
        public override ValueTask<bool> RenewAsync(string key, long leaseId, TimeSpan leaseDuration, CancellationToken cancellationToken) => ValueTask.FromResult(false);
    }

    private abstract class CountingStore(IConcurrencyStore inner) : IConcurrencyStore
    {
        private int _acquisitions;

        public int Acquisitions => Volatile.Read(ref _acquisitions);

        public ValueTask<ConcurrencyLease> TryAcquireAsync(string key, int limit, TimeSpan leaseDuration, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _acquisitions);
            return inner.TryAcquireAsync(key, limit, leaseDuration, cancellationToken);
        }

        public virtual ValueTask<bool> RenewAsync(string key, long leaseId, TimeSpan leaseDuration, CancellationToken cancellationToken)
            => inner.RenewAsync(key, leaseId, leaseDuration, cancellationToken);

        public ValueTask ReleaseAsync(string key, long leaseId, CancellationToken cancellationToken) => inner.ReleaseAsync(key, leaseId, cancellationToken);

        public ValueTask<int> CountAsync(string key, CancellationToken cancellationToken) => inner.CountAsync(key, cancellationToken);
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
