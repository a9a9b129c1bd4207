using System.Collections.Concurrent;
using AiEdge.Middleware.Caching;
using AiEdge.Middleware.Caching.Internal;
using AiEdge.Middleware.Conformance;
using AiEdge.Middleware.Testing;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Internal;
using Microsoft.Extensions.Time.Testing;

namespace AiEdge.Middleware.Caching.Tests;

/// <summary>
/// The prediction cache store contract kit against the suite's in-process stores (on a fake clock), and against stores
/// broken on purpose, one fault per check, to show that every check can fail.
/// </summary>
public sealed class PredictionCacheStoreConformanceTests
{
    // The fault that breaks each check, in the kit's order.
    private static readonly Fault[] FaultPerCheck =
    [
        Fault.MissingKeyReadsEmpty,
        Fault.CorruptsBytes,
        Fault.IgnoresTimeToLive,
        Fault.AcquiresHeldLock,
        Fault.ReleasesForAnyone,
        Fault.IgnoresLease,
        Fault.AcquiresBesideEntry,
        Fault.ReleasesWithoutStoring,
        Fault.WaitIgnoresTimeout,
        Fault.WaitIgnoresCancellation,
        Fault.AcquiresWithARace,
    ];

    // The names only: which checks the kit yields does not depend on the store.
    private static readonly IReadOnlyList<string> Names = PredictionCacheStoreConformance.Checks(new() { CreateStore = static () => throw new InvalidOperationException() }).Names();

    public static TheoryData<string> Checks => new(Names);

    [Theory, MemberData(nameof(Checks))]
    public Task InMemoryStore_MeetsTheContract(string check)
    {
        var clock = new FakeTimeProvider(TestClock.Start);
        return PredictionCacheStoreConformance.Checks(Options(clock, () => new InMemoryPredictionCacheStore(clock))).Get(check).RunAsync();
    }

    [Theory, MemberData(nameof(Checks))]
    public Task DistributedCacheStore_MeetsTheContract(string check)
    {
        var clock = new FakeTimeProvider(TestClock.Start);
        return PredictionCacheStoreConformance.Checks(Options(clock, () =>
        {
            var cache = new MemoryDistributedCache(Microsoft.Extensions.Options.Options.Create(new MemoryDistributedCacheOptions { Clock = new FakeSystemClock(clock) }));
            return new DistributedCachePredictionCacheStore(cache, clock);
        })).Get(check).RunAsync();
    }

    [Theory, MemberData(nameof(Checks))]
    public async Task Check_StoreBrokenForIt_Fails(string check)
    {
        var fault = FaultPerCheck[IndexOf(check)];
        var clock = new FakeTimeProvider(TestClock.Start);
        var checks = PredictionCacheStoreConformance.Checks(Options(clock, () => new BrokenStore(new InMemoryPredictionCacheStore(clock), fault)));

        var failure = await Assert.ThrowsAsync<ConformanceException>(() => checks.Get(check).RunAsync());

        Assert.False(string.IsNullOrWhiteSpace(failure.Message));
    }

    [Fact]
    public void Checks_OneFaultPerCheck_NamesUnique()
    {
        Assert.Equal(Names.Count, FaultPerCheck.Length);
        Assert.Equal(Names.Count, Names.Distinct().Count());
    }

    [Fact]
    public void Get_UnknownName_ThrowsNamingIt()
    {
        var checks = PredictionCacheStoreConformance.Checks(new() { CreateStore = static () => throw new InvalidOperationException() });

        var error = Assert.Throws<ArgumentException>(() => checks.Get("Lock: no such check"));

        Assert.Contains("Lock: no such check", error.Message, StringComparison.Ordinal);
        Assert.Same(checks[3], checks.Get(checks[3].Name));
    }

    private static int IndexOf(string check)
    {
        for (var i = 0; i < Names.Count; i++)
        {
            if (Names[i] == check)
            {
                return i;
            }
        }

        throw new ArgumentException(check);
    }

    private static PredictionCacheStoreConformanceOptions Options(FakeTimeProvider clock, Func<IPredictionCacheStore> createStore) => new()
    {
        CreateStore = createStore,
        AdvanceTime = by =>
        {
            clock.Advance(by);
            return ValueTask.CompletedTask;
        },
    };

    private sealed class FakeSystemClock(TimeProvider time) : ISystemClock
    {
        public DateTimeOffset UtcNow => time.GetUtcNow();
    }

    private enum Fault
    {
        MissingKeyReadsEmpty,
        CorruptsBytes,
        IgnoresTimeToLive,
        AcquiresHeldLock,
        ReleasesForAnyone,
        IgnoresLease,
        AcquiresBesideEntry,
        ReleasesWithoutStoring,
        WaitIgnoresTimeout,
        WaitIgnoresCancellation,
        AcquiresWithARace,
    }

    /// <summary>The in-process store with one deliberate contract violation.</summary>
    private sealed class BrokenStore(IPredictionCacheStore inner, Fault fault) : IPredictionCacheStore
    {
        private static readonly TimeSpan Forever = TimeSpan.FromDays(365);
        private readonly ConcurrentDictionary<PredictionCacheKey, Guid> _owners = new();
        private readonly TaskCompletionSource _secondReader = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _raceReaders;

        public async ValueTask<byte[]?> GetAsync(PredictionCacheKey key, CancellationToken cancellationToken)
        {
            var value = await inner.GetAsync(key, cancellationToken);
            return fault switch
            {
                Fault.MissingKeyReadsEmpty => value ?? [],
                Fault.CorruptsBytes when value is { Length: > 0 } => [.. value[..^1], (byte)(value[^1] ^ 1)],
                _ => value,
            };
        }

        public ValueTask SetAsync(PredictionCacheKey key, ReadOnlyMemory<byte> value, TimeSpan timeToLive, CancellationToken cancellationToken)
            => inner.SetAsync(key, value, fault == Fault.IgnoresTimeToLive ? Forever : timeToLive, cancellationToken);

        public async ValueTask<bool> TryAcquireAsync(PredictionCacheKey key, Guid owner, TimeSpan lease, CancellationToken cancellationToken)
        {
            var acquired = await inner.TryAcquireAsync(key, owner, fault == Fault.IgnoresLease ? Forever : lease, cancellationToken);
            if (acquired)
            {
                _owners[key] = owner;
            }

            return acquired || fault == Fault.AcquiresHeldLock;
        }

        public ValueTask ReleaseAsync(PredictionCacheKey key, Guid owner, CancellationToken cancellationToken)
            => inner.ReleaseAsync(key, fault == Fault.ReleasesForAnyone && _owners.TryGetValue(key, out var holder) ? holder : owner, cancellationToken);

        public ValueTask<bool> WaitAsync(PredictionCacheKey key, TimeSpan timeout, CancellationToken cancellationToken)
            => inner.WaitAsync(
                key,
                fault == Fault.WaitIgnoresTimeout ? Forever : timeout,
                fault == Fault.WaitIgnoresCancellation ? CancellationToken.None : cancellationToken);

        public async ValueTask<PredictionCacheLookup> GetOrAcquireAsync(PredictionCacheKey key, Guid owner, TimeSpan lease, CancellationToken cancellationToken)
        {
            if (fault == Fault.AcquiresWithARace)
            {
                // Check, then act: the first caller to find the lock free waits until a second one has found it free
                // too, so both take it (a lone caller goes on after a second).
                var free = !_owners.ContainsKey(key);
                if (Interlocked.Increment(ref _raceReaders) == 2)
                {
                    _secondReader.TrySetResult();
                }

                await Task.WhenAny(_secondReader.Task, Task.Delay(TimeSpan.FromSeconds(1), cancellationToken));
                _owners[key] = owner;
                return new PredictionCacheLookup(null, free);
            }

            var entry = await GetAsync(key, cancellationToken);
            if (entry is not null && fault != Fault.AcquiresBesideEntry)
            {
                return new PredictionCacheLookup(entry, false);
            }

            return new PredictionCacheLookup(entry, await TryAcquireAsync(key, owner, lease, cancellationToken));
        }

        public async ValueTask SetAndReleaseAsync(PredictionCacheKey key, ReadOnlyMemory<byte> value, TimeSpan timeToLive, Guid owner, CancellationToken cancellationToken)
        {
            if (fault != Fault.ReleasesWithoutStoring)
            {
                await SetAsync(key, value, timeToLive, cancellationToken);
            }

            await ReleaseAsync(key, owner, cancellationToken);
        }
    }
}
