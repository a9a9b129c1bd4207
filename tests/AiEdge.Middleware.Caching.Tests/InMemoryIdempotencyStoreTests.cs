using System.Diagnostics;
using System.Diagnostics.Metrics;
using AiEdge.Middleware.Caching.Internal;
using AiEdge.Middleware.Internal;
using AiEdge.Middleware.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Primitives;
using Microsoft.Extensions.Time.Testing;
using Xunit.Abstractions;

namespace AiEdge.Middleware.Caching.Tests;

/// <summary>The in-memory Idempotency-Key store on its own: the byte bound, what it evicts and never evicts, expiry, concurrency.</summary>
// The heap-bound test measures the process's heap: nothing else may run beside it.
[Collection(HeapMeasurement.Collection)]
public sealed class InMemoryIdempotencyStoreTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Lease = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan Retention = TimeSpan.FromHours(24);
    private static readonly byte[] Fingerprint = new byte[32];

    // Every key of these tests has 64 characters, as the middleware's are, so every claim and record has one size.
    private static readonly long ClaimSize = InMemoryIdempotencyStore.SlotSize(Key(0), Fingerprint, Token(0), null);
    private static readonly long RecordSize = InMemoryIdempotencyStore.SlotSize(Key(0), Fingerprint, null, Record(100));

    [Fact]
    public void SlotSize_CountsKeyTokenFingerprintAndResponse()
    {
        // Key and token as UTF-16 strings, the fingerprint as an array, the slot and its dictionary entry.
        Assert.Equal(136 + (22 + 128) + (24 + 32) + (22 + 64), ClaimSize);
        Assert.Equal(136 + (22 + 128) + (24 + 32) + 32 + Record(100).Response.Size, RecordSize);
    }

    [Fact]
    public async Task Claim_And_Complete_AccountBytesExactly()
    {
        using var store = new InMemoryIdempotencyStore(new FakeTimeProvider(TestClock.Start), 1024 * 1024);

        Assert.Equal(IdempotencyClaimStatus.Claimed, (await ClaimAsync(store, 1)).Status);
        Assert.Equal(ClaimSize, store.Size);
        Assert.True(await CompleteAsync(store, 1));
        Assert.Equal(RecordSize, store.Size);
        await store.ReleaseAsync(Key(1), Token(1), default);   // a record is not a claim: nothing happens
        Assert.Equal(RecordSize, store.Size);

        Assert.Equal(IdempotencyClaimStatus.Claimed, (await ClaimAsync(store, 2)).Status);
        await store.ReleaseAsync(Key(2), Token(2), default);
        Assert.Equal(RecordSize, store.Size);
        Assert.Equal(1, store.Count);
    }

    [Fact]
    public async Task Claim_AtBound_EvictsCompletedRecordsOldestFirst()
    {
        using var store = new InMemoryIdempotencyStore(new FakeTimeProvider(TestClock.Start), (3 * RecordSize) + ClaimSize);
        for (var i = 1; i <= 3; i++)
        {
            await ClaimAsync(store, i);
            await CompleteAsync(store, i);
        }

        // Room for one claim beside three records: the fourth key's record needs the oldest one's place.
        Assert.Equal(IdempotencyClaimStatus.Claimed, (await ClaimAsync(store, 4)).Status);
        Assert.NotNull(await store.GetAsync(Key(1), default));
        Assert.True(await CompleteAsync(store, 4));

        Assert.Null(await store.GetAsync(Key(1), default));
        Assert.NotNull(await store.GetAsync(Key(2), default));
        Assert.True(store.Size <= store.SizeLimit);

        // The next new key takes the place of key 2, then key 3, never of the newest.
        await ClaimAsync(store, 5);
        await CompleteAsync(store, 5);
        Assert.Null(await store.GetAsync(Key(2), default));
        Assert.NotNull(await store.GetAsync(Key(3), default));
        Assert.NotNull(await store.GetAsync(Key(5), default));

        // A retry of an evicted key finds it absent: it is claimed (runs) as a new request.
        Assert.Equal(IdempotencyClaimStatus.Claimed, (await ClaimAsync(store, 1)).Status);
    }

    [Fact]
    public async Task Claim_AtBoundWithOnlyRunningClaims_IsFull_AndNoClaimIsEvicted()
    {
        using var store = new InMemoryIdempotencyStore(new FakeTimeProvider(TestClock.Start), (3 * ClaimSize) + 10);
        for (var i = 1; i <= 3; i++)
        {
            Assert.Equal(IdempotencyClaimStatus.Claimed, (await ClaimAsync(store, i)).Status);
        }

        Assert.Equal(IdempotencyClaimStatus.Full, (await ClaimAsync(store, 4)).Status);
        Assert.Equal(3, store.ClaimCount);
        for (var i = 1; i <= 3; i++)
        {
            // Each running request still holds its key: a retry is told it is in progress, never runs.
            Assert.Equal(IdempotencyClaimStatus.InProgress, (await ClaimAsync(store, i, token: 99)).Status);
        }

        // A finished request frees room.
        await store.ReleaseAsync(Key(1), Token(1), default);
        Assert.Equal(IdempotencyClaimStatus.Claimed, (await ClaimAsync(store, 4)).Status);
    }

    [Fact]
    public async Task Complete_WhenOnlyRunningClaimsCouldMakeRoom_DropsTheResponseAndFreesTheKey()
    {
        // Two claims fit; a record beside a running claim does not.
        using var store = new InMemoryIdempotencyStore(new FakeTimeProvider(TestClock.Start), (2 * ClaimSize) + 10);
        await ClaimAsync(store, 1);
        await ClaimAsync(store, 2);

        Assert.False(await CompleteAsync(store, 1));

        Assert.Equal(1, store.Count);
        Assert.Equal(ClaimSize, store.Size);
        Assert.Equal(IdempotencyClaimStatus.InProgress, (await ClaimAsync(store, 2, token: 99)).Status);
        Assert.Equal(IdempotencyClaimStatus.Claimed, (await ClaimAsync(store, 1, token: 98)).Status);
    }

    [Fact]
    public async Task Complete_ResponseThatCannotFitBesideRunningClaims_EvictsNothing()
    {
        using var store = new InMemoryIdempotencyStore(new FakeTimeProvider(TestClock.Start), RecordSize + (2 * ClaimSize) + 10);
        await ClaimAsync(store, 1);
        await CompleteAsync(store, 1);
        await ClaimAsync(store, 2);
        await ClaimAsync(store, 3);

        // Even with key 1's record gone, this answer would not fit beside key 3's claim: key 1 keeps its record.
        Assert.False(await store.CompleteAsync(Key(2), Token(2), Record(1000), Retention, default));

        Assert.NotNull(await store.GetAsync(Key(1), default));
        Assert.Equal(RecordSize + ClaimSize, store.Size);
    }

    [Fact]
    public async Task Complete_RecordLargerThanBound_IsNotKept()
    {
        using var store = new InMemoryIdempotencyStore(new FakeTimeProvider(TestClock.Start), RecordSize + 10);
        await ClaimAsync(store, 1);

        Assert.False(await store.CompleteAsync(Key(1), Token(1), Record(1000), Retention, default));

        Assert.Equal(0, store.Count);
        Assert.Equal(0, store.Size);
    }

    [Fact]
    public async Task Timer_RemovesExpiredRecordsAndClaims_FromAnIdleStore()
    {
        var time = new FakeTimeProvider(TestClock.Start);
        using var store = new InMemoryIdempotencyStore(time, 1024 * 1024);
        for (var i = 1; i <= 10; i++)
        {
            await ClaimAsync(store, i);
            if (i <= 6)
            {
                await CompleteAsync(store, i);
            }
        }

        time.Advance(Lease + InMemoryIdempotencyStore.SweepInterval);
        Assert.Equal(6, store.Count);          // the four abandoned claims' leases ended
        Assert.Equal(0, store.ClaimCount);

        time.Advance(Retention);
        Assert.Equal(0, store.Count);          // and the records' retention: nothing was asked of the store
        Assert.Equal(0, store.Size);
    }

    [Fact]
    public async Task Claim_AfterRetention_TakesTheKeyAgain()
    {
        var time = new FakeTimeProvider(TestClock.Start);
        using var store = new InMemoryIdempotencyStore(time, 1024 * 1024);
        await ClaimAsync(store, 1);
        await CompleteAsync(store, 1);

        time.Advance(Retention - TimeSpan.FromSeconds(1));
        Assert.Equal(IdempotencyClaimStatus.Completed, (await ClaimAsync(store, 1, token: 2)).Status);
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Null(await store.GetAsync(Key(1), default));
        Assert.Equal(IdempotencyClaimStatus.Claimed, (await ClaimAsync(store, 1, token: 3)).Status);
        Assert.Equal(ClaimSize, store.Size);
    }

    [Fact]
    public async Task Metrics_ReportBytesKeysAndEvictions()
    {
        var services = new ServiceCollection().AddMetrics().AddSingleton<CachingMetrics>().BuildServiceProvider();
        var factory = services.GetRequiredService<IMeterFactory>();
        var totals = new Dictionary<string, long>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (ReferenceEquals(instrument.Meter.Scope, factory) && instrument.Name.StartsWith("aiedge.idempotency.", StringComparison.Ordinal))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, _, _) =>
        {
            lock (totals)
            {
                totals[instrument.Name] = totals.GetValueOrDefault(instrument.Name) + value;
            }
        });
        listener.Start();
        using var store = new InMemoryIdempotencyStore(new FakeTimeProvider(TestClock.Start), (2 * RecordSize) + ClaimSize, services.GetRequiredService<CachingMetrics>());

        for (var i = 1; i <= 5; i++)
        {
            await ClaimAsync(store, i);
            await CompleteAsync(store, i);
        }

        await ClaimAsync(store, 6);

        Assert.Equal(store.Size, totals["aiedge.idempotency.stored_bytes"]);
        Assert.Equal(store.Count, totals["aiedge.idempotency.stored_keys"]);
        Assert.Equal(3, store.Count);
        Assert.Equal(3, totals["aiedge.idempotency.evictions"]);
    }

    /// <summary>
    /// The estimate is honest: records like a real endpoint's (a JSON body, two private headers, every string and
    /// array their own) take no more of the managed heap than the store says it holds.
    /// </summary>
    [Fact]
    public async Task SizeEstimate_CoversTheHeapTheRecordsHold()
    {
        const int keys = 50_000;
        using var store = new InMemoryIdempotencyStore(new FakeTimeProvider(TestClock.Start), long.MaxValue);
        var before = GC.GetTotalMemory(forceFullCollection: true);
        for (var i = 0; i < keys; i++)
        {
            var key = Key(i);
            var fingerprint = new byte[32];
            var token = Guid.NewGuid().ToString("N");
            await store.TryClaimAsync(key, fingerprint, token, Lease, default);
            var job = Guid.NewGuid().ToString("N");
            KeyValuePair<string, StringValues>[] headers =
            [
                new(new string("Content-Type".AsSpan()), new string("application/json; charset=utf-8".AsSpan())),
                new(new string("X-Job-Location".AsSpan()), "/jobs/" + job),
            ];
            var body = System.Text.Encoding.UTF8.GetBytes("{\"job\":\"" + job + "\"}");
            var response = new CachedResponse(202, headers, headersShared: false, body, null, 0, long.MaxValue / 2, long.MaxValue / 2);
            await store.CompleteAsync(key, token, new IdempotencyRecord(fingerprint, response), Retention, default);
        }

        var after = GC.GetTotalMemory(forceFullCollection: true);
        GC.KeepAlive(store);
        output.WriteLine($"{keys} records: store says {store.Size} bytes ({store.Size / keys} a key), heap grew {after - before} ({(after - before) / keys} a key)");
        Assert.True(after - before <= store.Size, $"heap grew {after - before} bytes, store says {store.Size}");
        Assert.True(after - before >= store.Size / 2, $"heap grew {after - before} bytes, store says {store.Size}: the estimate is far too high");
    }

    /// <summary>
    /// A million distinct keys, each claimed and completed as the middleware does, through a 4 MiB store: the store
    /// never exceeds its bound and the managed heap ends within the bound plus a small overhead.
    /// </summary>
    [Fact]
    public async Task Spray_AMillionKeys_StaysWithinTheBound()
    {
        const long limit = 4 * 1024 * 1024;
        const int keys = 1_000_000;
        using var store = new InMemoryIdempotencyStore(new FakeTimeProvider(TestClock.Start), limit);
        var before = GC.GetTotalMemory(forceFullCollection: true);
        var stopwatch = Stopwatch.StartNew();
        long largest = 0;
        for (var i = 0; i < keys; i++)
        {
            var key = Key(i);
            var fingerprint = new byte[32];
            var token = Guid.NewGuid().ToString("N");
            Assert.Equal(IdempotencyClaimStatus.Claimed, (await store.TryClaimAsync(key, fingerprint, token, Lease, default)).Status);
            Assert.True(await store.CompleteAsync(key, token, new IdempotencyRecord(fingerprint, MemoryResponseCacheTests.Entry(64)), Retention, default));
            if ((i & 1023) == 0)
            {
                largest = Math.Max(largest, store.Size);
            }
        }

        stopwatch.Stop();
        var after = GC.GetTotalMemory(forceFullCollection: true);
        GC.KeepAlive(store);

        output.WriteLine($"{keys} keys in {stopwatch.Elapsed}: heap grew {after - before} bytes; store holds {store.Count} keys, {store.Size} bytes (bound {limit})");
        Assert.True(largest <= limit, $"store held {largest} bytes, bound {limit}");
        Assert.True(store.Size <= limit);
        Assert.True(store.Count < keys / 100, $"{store.Count} keys held");
        Assert.True(after - before < limit + (2 * 1024 * 1024), $"heap grew by {after - before} bytes for a {limit}-byte bound ({store.Count} keys, {store.Size} bytes estimated, {stopwatch.Elapsed})");
    }

    /// <summary>
    /// Real threads race claims of a few shared keys against a spray of new keys that keeps the store evicting: a
    /// key is never held by two running requests at once, and the bound always holds.
    /// </summary>
    [Fact]
    public async Task Concurrency_ClaimsRacingWithEviction_NeverRunAKeyTwiceAtOnce()
    {
        const int shared = 8;
        const int threads = 4;
        const int iterations = 20_000;
        using var store = new InMemoryIdempotencyStore(TimeProvider.System, 24 * RecordSize);
        var running = new int[shared];
        var overlaps = 0;
        var runs = 0;
        var full = 0;
        long largest = 0;
        using var start = new Barrier(threads);

        var workers = new Task[threads];
        for (var t = 0; t < threads; t++)
        {
            var thread = t;
            workers[t] = Task.Factory.StartNew(
                () =>
                {
                    start.SignalAndWait();
                    for (var i = 0; i < iterations; i++)
                    {
                        // Every other call is a fresh key (pressure), the others one of the shared keys (retries).
                        var index = (i & 1) == 0 ? Random.Shared.Next(shared) : -1;
                        var key = index >= 0 ? Key(index) : Key(1_000_000 + (thread * iterations) + i);
                        var token = Guid.NewGuid().ToString("N");
                        var claim = store.TryClaimAsync(key, Fingerprint, token, Lease, default).AsTask().GetAwaiter().GetResult();
                        if (claim.Status == IdempotencyClaimStatus.Full)
                        {
                            Interlocked.Increment(ref full);
                            continue;
                        }

                        if (claim.Status != IdempotencyClaimStatus.Claimed)
                        {
                            continue;
                        }

                        if (index >= 0)
                        {
                            Interlocked.Increment(ref runs);
                            if (Interlocked.Increment(ref running[index]) != 1)
                            {
                                Interlocked.Increment(ref overlaps);
                            }

                            Thread.SpinWait(200);
                            Interlocked.Decrement(ref running[index]);
                        }

                        store.CompleteAsync(key, token, Record(100), Retention, default).AsTask().GetAwaiter().GetResult();
                        var size = store.Size;
                        long seen;
                        while (size > (seen = Interlocked.Read(ref largest)) && Interlocked.CompareExchange(ref largest, size, seen) != seen)
                        {
                        }
                    }
                },
                TaskCreationOptions.LongRunning);
        }

        await Task.WhenAll(workers).WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(0, overlaps);
        Assert.True(runs > shared, $"only {runs} runs: the shared keys were never evicted");
        Assert.True(largest <= store.SizeLimit, $"store held {largest} bytes, bound {store.SizeLimit}");
        Assert.Equal(0, store.ClaimCount);
    }

    private static string Key(int value) => value.ToString("x64");

    private static string Token(int value) => value.ToString("x32");

    private static IdempotencyRecord Record(int bodyLength) => new(Fingerprint, MemoryResponseCacheTests.Entry(bodyLength));

    private static async Task<IdempotencyClaim> ClaimAsync(InMemoryIdempotencyStore store, int key, int? token = null)
        => await store.TryClaimAsync(Key(key), Fingerprint, Token(token ?? key), Lease, default);

    private static async Task<bool> CompleteAsync(InMemoryIdempotencyStore store, int key)
        => await store.CompleteAsync(Key(key), Token(key), Record(100), Retention, default);
}

/// <summary>Tests that measure the whole process's heap run alone, never beside another test class.</summary>
[CollectionDefinition(Collection, DisableParallelization = true)]
public sealed class HeapMeasurement
{
    /// <summary>The collection's name.</summary>
    public const string Collection = "heap measurement";
}
