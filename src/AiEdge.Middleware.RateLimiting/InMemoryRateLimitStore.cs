using System.Collections.Concurrent;
using AiEdge.Middleware.Internal;
using AiEdge.Middleware.RateLimiting.Internal;
using Microsoft.Extensions.Options;

namespace AiEdge.Middleware.RateLimiting;

/// <summary>
/// The default <see cref="IRateLimitStore"/>, registered by <c>AddRateLimiting</c>: this process's buckets in memory,
/// deciding on <see cref="RateLimitBatch.NowMs"/>. One lock per bucket, ordered locking for several rules, bounded and expiring state.
/// Buckets are forgotten only when idle (<see cref="LeakyBucket.IsIdle"/>: forgetting them changes no decision), by
/// a periodic scan and, when <see cref="RateLimitingOptions.MaxPartitions"/> buckets exist and a new partition
/// arrives, by a bounded step of an incremental sweep. When no bucket is idle the new partition's request is refused
/// (<see cref="RateLimitBatch.TableFull"/>), as NGINX's <c>limit_req</c> refuses when its zone is full: a live bucket
/// is never forgotten, so spraying new partitions can neither grow memory nor reset anyone's quota.
/// </summary>
/// <remarks>
/// <para>A one-rule decision on a bucket that exists allocates nothing; every decision completes synchronously (the <see cref="ValueTask"/>
/// is already completed); the cancellation token is not observed, as nothing waits. A store of another process's
/// state can keep one of these as its fallback (the Redis store does, when Redis is unreachable): resolve it from DI
/// (<c>AddRateLimiting</c> registers it as itself too) or create one.</para>
/// <para>The sweep keeps its place in the table between steps and examines at most <see cref="SweepStep"/> buckets per
/// step. A full pass that frees nothing records the earliest moment any bucket it saw turns idle; until then a new
/// partition is refused at once, without scanning. That moment only moves earlier when a bucket can turn idle sooner:
/// a new bucket, a refused batch that left a new bucket empty, or tokens given back; each lowers it.</para>
/// </remarks>
public sealed class InMemoryRateLimitStore : IRateLimitStore, IDisposable
{
    /// <summary>The most buckets one step of the sweep examines for a new partition while the table is full.</summary>
    internal const int SweepStep = 64;

    private readonly ConcurrentDictionary<BucketKey, Bucket> _buckets = new();
    private readonly TimeProvider _time;
    private readonly ITimer? _scanTimer;
    private readonly int _maxBuckets;
    private readonly Lock _sweepLock = new();
    private int _count;

    // Guarded by _sweepLock: the incremental sweep's place, how many buckets its current pass has examined without
    // freeing one, and the earliest moment one of them turns idle.
    private IEnumerator<KeyValuePair<BucketKey, Bucket>>? _cursor;
    private int _passScanned;
    private long _passEarliestIdleMs = long.MaxValue;

    // No bucket turns idle before this store clock (ms); 0 when unknown. Read without the lock, lowered with CAS.
    private long _noIdleBeforeMs;
    private long _tableFullRefusals;

    /// <summary>
    /// Creates a store bounded by <see cref="RateLimitingOptions.MaxPartitions"/> that scans for idle buckets every
    /// <see cref="RateLimitingOptions.ExpirationScanInterval"/> (never when zero) on <paramref name="time"/>'s timers.
    /// </summary>
    /// <param name="options">The rate-limiting options (only the two above are read, once).</param>
    /// <param name="time">The clock of the periodic scan; decisions use <see cref="RateLimitBatch.NowMs"/>.</param>
    public InMemoryRateLimitStore(IOptions<RateLimitingOptions> options, TimeProvider time)
        : this(options, time, null)
    {
    }

    /// <summary>Creates a store that reports its bucket count to <paramref name="metrics"/>.</summary>
    internal InMemoryRateLimitStore(IOptions<RateLimitingOptions> options, TimeProvider time, RateLimitingMetrics? metrics)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(time);
        _time = time;
        metrics?.AddRateLimitPartitionSource(CountForMetrics);
        _maxBuckets = Math.Max(options.Value.MaxPartitions, 1);
        var interval = options.Value.ExpirationScanInterval;
        if (interval > TimeSpan.Zero)
        {
            _scanTimer = time.CreateTimer(static state => ((InMemoryRateLimitStore)state!).Sweep(), this, interval, interval);
        }
    }

    /// <summary>Gets the number of buckets held (at most <see cref="RateLimitingOptions.MaxPartitions"/>, save reconciliations of forgotten buckets).</summary>
    public int Count => Volatile.Read(ref _count);

    private long CountForMetrics() => Volatile.Read(ref _count);

    /// <summary>Gets the number of batches refused because the table was full of live buckets.</summary>
    public long TableFullRefusals => Interlocked.Read(ref _tableFullRefusals);

    /// <summary>Gets the number of buckets the incremental sweep has examined for new partitions (for tests of its cost).</summary>
    internal long SweepExamined { get; private set; }

    /// <summary>The monotonic clock of the periodic scan.</summary>
    private long NowMs() => RateLimitClock.NowMs(_time);

    /// <inheritdoc />
    public ValueTask AcquireAsync(RateLimitBatch batch, CancellationToken cancellationToken)
    {
        Acquire(batch);
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask<long> ReconcileAsync(RateLimitRule rule, PartitionKey partition, long deltaMilli, long nowMs, CancellationToken cancellationToken)
    {
        while (true)
        {
            // A reconciliation follows an admission, so its bucket normally exists. When it was forgotten meanwhile (its
            // reservation drained during a long response), tokens given back change nothing, and tokens charged are
            // charged even past the bound: a full table must not make usage free (at most one bucket per response).
            var bucket = GetOrAdd(rule, partition, nowMs, beyondBound: deltaMilli > 0);
            if (bucket is null)
            {
                return ValueTask.FromResult(rule.CapacityMilli / LeakyBucket.OneRequest);
            }

            lock (bucket.Gate)
            {
                if (bucket.Removed)
                {
                    continue;
                }

                var remaining = LeakyBucket.Reconcile(rule, ref bucket.State, deltaMilli, nowMs);
                if (deltaMilli < 0)
                {
                    LowerNoIdleBefore(LeakyBucket.IdleAtMs(rule, bucket.State));
                }

                return ValueTask.FromResult(remaining);
            }
        }
    }

    /// <summary>Decides on a batch synchronously, as <see cref="AcquireAsync"/> does (allocates nothing once buckets exist).</summary>
    /// <param name="batch">The items and the decision time.</param>
    public void Acquire(RateLimitBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (batch.Count == 1)
        {
            AcquireOne(batch);
            return;
        }

        AcquireMany(batch);
    }

    private void AcquireOne(RateLimitBatch batch)
    {
        ref readonly var item = ref batch.Items[0];
        while (true)
        {
            var bucket = GetOrAdd(item.Rule, item.Partition, batch.NowMs);
            if (bucket is null)
            {
                RefuseTableFull(batch);
                return;
            }

            lock (bucket.Gate)
            {
                if (bucket.Removed)
                {
                    continue;
                }

                var next = LeakyBucket.Evaluate(item.Rule, bucket.State, item.CostMilli, batch.NowMs, out batch.Results[0]);
                batch.Admitted = batch.Results[0].Admitted;
                if (batch.Admitted)
                {
                    LeakyBucket.Commit(ref bucket.State, next, batch.NowMs);
                }

                return;
            }
        }
    }

    private void AcquireMany(RateLimitBatch batch)
    {
        var count = batch.Count;
        var buckets = new Bucket[count];
        var excess = new long[count];
        var locked = 0;
        try
        {
            // Items are in lock order, so every thread takes bucket locks in the same order.
            for (var i = 0; i < count; i++)
            {
                ref readonly var item = ref batch.Items[i];
                while (true)
                {
                    var bucket = GetOrAdd(item.Rule, item.Partition, batch.NowMs);
                    if (bucket is null)
                    {
                        RefuseTableFull(batch);
                        LowerForEmpty(buckets, locked, batch.NowMs);
                        return;
                    }

                    bucket.Gate.Enter();
                    if (bucket.Removed)
                    {
                        bucket.Gate.Exit();
                        continue;
                    }

                    buckets[i] = bucket;
                    locked++;
                    break;
                }
            }

            var admitted = true;
            for (var i = 0; i < count; i++)
            {
                ref readonly var item = ref batch.Items[i];
                excess[i] = LeakyBucket.Evaluate(item.Rule, buckets[i].State, item.CostMilli, batch.NowMs, out batch.Results[i]);
                admitted &= batch.Results[i].Admitted;
            }

            batch.Admitted = admitted;
            if (admitted)
            {
                for (var i = 0; i < count; i++)
                {
                    LeakyBucket.Commit(ref buckets[i].State, excess[i], batch.NowMs);
                }
            }
            else
            {
                LowerForEmpty(buckets, count, batch.NowMs);
            }
        }
        finally
        {
            for (var i = locked - 1; i >= 0; i--)
            {
                buckets[i].Gate.Exit();
            }
        }
    }

    private void RefuseTableFull(RateLimitBatch batch)
    {
        for (var i = 0; i < batch.Count; i++)
        {
            batch.Results[i] = default;
        }

        var noIdleBefore = Volatile.Read(ref _noIdleBeforeMs);
        batch.Admitted = false;
        batch.TableFull = true;
        batch.TableFullRetryAfterMs = noIdleBefore > batch.NowMs ? noIdleBefore - batch.NowMs : LeakyBucket.OneRequest;
        Interlocked.Increment(ref _tableFullRefusals);
    }

    /// <summary>Gets the bucket of a partition, adding it when there is room; <see langword="null"/> when the table is full of live buckets.</summary>
    private Bucket? GetOrAdd(RateLimitRule rule, PartitionKey partition, long nowMs, bool beyondBound = false)
    {
        var key = new BucketKey(rule, partition);
        while (true)
        {
            if (_buckets.TryGetValue(key, out var bucket))
            {
                return bucket;
            }

            // Reserve a place first, so concurrent new partitions never take the table past its bound.
            if (beyondBound)
            {
                Interlocked.Increment(ref _count);
            }
            else if (!TryReserve())
            {
                if (!TryMakeRoom(nowMs))
                {
                    return null;
                }

                continue;
            }

            bucket = new Bucket(rule);
            if (_buckets.TryAdd(key, bucket))
            {
                // Empty until its first commit, and idle soon after it: whatever the sweep learned may be too late now.
                LowerNoIdleBefore(nowMs);
                return bucket;
            }

            Interlocked.Decrement(ref _count);
        }
    }

    private bool TryReserve()
    {
        var count = Volatile.Read(ref _count);
        while (count < _maxBuckets)
        {
            var seen = Interlocked.CompareExchange(ref _count, count + 1, count);
            if (seen == count)
            {
                return true;
            }

            count = seen;
        }

        return false;
    }

    /// <summary>Frees at least one place by forgetting idle buckets, examining at most <see cref="SweepStep"/> of them.</summary>
    private bool TryMakeRoom(long nowMs)
    {
        if (nowMs < Volatile.Read(ref _noIdleBeforeMs))
        {
            return false;
        }

        lock (_sweepLock)
        {
            if (Volatile.Read(ref _count) < _maxBuckets)
            {
                return true;
            }

            if (nowMs < Volatile.Read(ref _noIdleBeforeMs))
            {
                return false;
            }

            var freed = false;
            for (var step = 0; step < SweepStep; step++)
            {
                _cursor ??= _buckets.GetEnumerator();
                if (!_cursor.MoveNext())
                {
                    _cursor.Dispose();
                    _cursor = null;
                    if (_passScanned >= Volatile.Read(ref _count) && _passEarliestIdleMs > nowMs)
                    {
                        // A whole pass found nothing idle: refuse at once until the earliest bucket it saw turns idle.
                        Volatile.Write(ref _noIdleBeforeMs, Math.Max(_passEarliestIdleMs, nowMs + 1));
                        _passScanned = 0;
                        _passEarliestIdleMs = long.MaxValue;
                        return freed;
                    }

                    // A pass that saw too few buckets, or saw one that is idle by now (the pass began at an earlier
                    // call), proves nothing: scan again.
                    _passScanned = 0;
                    _passEarliestIdleMs = long.MaxValue;
                    continue;
                }

                var pair = _cursor.Current;
                _passScanned++;
                SweepExamined++;
                if (TryForget(pair, nowMs, out var idleAtMs))
                {
                    freed = true;
                    _passScanned = 0;
                    _passEarliestIdleMs = long.MaxValue;
                    break;
                }

                _passEarliestIdleMs = Math.Min(_passEarliestIdleMs, idleAtMs);
            }

            return freed;
        }
    }

    /// <summary>Forgets the bucket when it is idle at <paramref name="nowMs"/>; otherwise reports when it will be.</summary>
    private bool TryForget(KeyValuePair<BucketKey, Bucket> pair, long nowMs, out long idleAtMs)
    {
        // Never wait for a bucket's lock here: the caller may hold other buckets' locks (a batch of several rules),
        // and one this thread holds is in use by its own decision. A busy bucket is simply not idle now.
        var bucket = pair.Value;
        if (bucket.Gate.IsHeldByCurrentThread || !bucket.Gate.TryEnter())
        {
            idleAtMs = nowMs + 1;
            return false;
        }

        try
        {
            idleAtMs = LeakyBucket.IdleAtMs(bucket.Rule, bucket.State);
            if (bucket.Removed || idleAtMs > nowMs)
            {
                return false;
            }

            bucket.Removed = true;
        }
        finally
        {
            bucket.Gate.Exit();
        }

        Remove(pair);
        return true;
    }

    /// <summary>Buckets created for a refused batch stay empty, idle at once: the sweep may have counted them as busy.</summary>
    private void LowerForEmpty(Bucket[] buckets, int count, long nowMs)
    {
        for (var i = 0; i < count; i++)
        {
            if (!buckets[i].State.Exists)
            {
                LowerNoIdleBefore(nowMs);
                return;
            }
        }
    }

    private void LowerNoIdleBefore(long idleAtMs)
    {
        var current = Volatile.Read(ref _noIdleBeforeMs);
        while (idleAtMs < current)
        {
            var seen = Interlocked.CompareExchange(ref _noIdleBeforeMs, Math.Max(idleAtMs, 0), current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }

    /// <summary>Forgets every idle bucket (the periodic scan).</summary>
    internal void Sweep()
    {
        if (!_sweepLock.TryEnter())
        {
            return;
        }

        try
        {
            var now = NowMs();
            var earliest = long.MaxValue;
            var freed = false;
            foreach (var pair in _buckets)
            {
                if (TryForget(pair, now, out var idleAtMs))
                {
                    freed = true;
                }
                else
                {
                    earliest = Math.Min(earliest, idleAtMs);
                }
            }

            Volatile.Write(ref _noIdleBeforeMs, freed ? 0 : Math.Max(earliest, now + 1));
        }
        finally
        {
            _sweepLock.Exit();
        }
    }

    private void Remove(KeyValuePair<BucketKey, Bucket> pair)
    {
        if (_buckets.TryRemove(pair))
        {
            Interlocked.Decrement(ref _count);
        }
    }

    /// <summary>Stops the periodic scan.</summary>
    public void Dispose()
    {
        _scanTimer?.Dispose();
        lock (_sweepLock)
        {
            _cursor?.Dispose();
            _cursor = null;
        }
    }

    private readonly record struct BucketKey(RateLimitRule Rule, PartitionKey Partition);

    private sealed class Bucket(RateLimitRule rule)
    {
        public readonly Lock Gate = new();
        public readonly RateLimitRule Rule = rule;
        public BucketState State;
        public bool Removed;
    }
}
