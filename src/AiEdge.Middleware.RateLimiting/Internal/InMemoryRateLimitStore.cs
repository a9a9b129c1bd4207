using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace AiEdge.Middleware.RateLimiting.Internal;

/// <summary>
/// The default store: one lock per bucket, ordered locking for several rules, bounded and expiring state.
/// Buckets are forgotten when idle (<see cref="LeakyBucket.IsIdle"/>, which changes no decision) by a periodic
/// scan; when more than <see cref="RateLimitingOptions.MaxPartitions"/> buckets exist, idle ones go first, then
/// the least recently used, so spraying keys cannot grow memory without bound.
/// </summary>
internal sealed class InMemoryRateLimitStore : IRateLimitStore, IDisposable
{
    private readonly ConcurrentDictionary<BucketKey, Bucket> _buckets = new();
    private readonly TimeProvider _time;
    private readonly ITimer? _scanTimer;
    private readonly int _maxBuckets;
    private readonly Lock _sweepLock = new();
    private int _count;

    public InMemoryRateLimitStore(IOptions<RateLimitingOptions> options, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(time);
        _time = time;
        _maxBuckets = Math.Max(options.Value.MaxPartitions, 1);
        var interval = options.Value.ExpirationScanInterval;
        if (interval > TimeSpan.Zero)
        {
            _scanTimer = time.CreateTimer(static state => ((InMemoryRateLimitStore)state!).Sweep(force: false), this, interval, interval);
        }
    }

    /// <summary>Gets the number of buckets held.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>The monotonic clock decisions are taken on.</summary>
    public long NowMs() => RateLimitClock.NowMs(_time);

    public ValueTask AcquireAsync(RateLimitBatch batch, CancellationToken cancellationToken)
    {
        Acquire(batch);
        return ValueTask.CompletedTask;
    }

    public ValueTask<long> ReconcileAsync(RateLimitRule rule, PartitionKey partition, long deltaMilli, long nowMs, CancellationToken cancellationToken)
    {
        while (true)
        {
            var bucket = GetOrAdd(rule, partition);
            lock (bucket.Gate)
            {
                if (bucket.Removed)
                {
                    continue;
                }

                return ValueTask.FromResult(LeakyBucket.Reconcile(rule, ref bucket.State, deltaMilli, nowMs));
            }
        }
    }

    /// <summary>Decides on a batch synchronously (the in-memory path allocates nothing once buckets exist).</summary>
    public void Acquire(RateLimitBatch batch)
    {
        if (batch.Count == 1)
        {
            AcquireOne(batch);
            return;
        }

        AcquireMany(batch);
    }

    private void AcquireOne(RateLimitBatch batch)
    {
        ref var item = ref batch.Items[0];
        while (true)
        {
            var bucket = GetOrAdd(item.Rule, item.Partition);
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
                ref var item = ref batch.Items[i];
                while (true)
                {
                    var bucket = GetOrAdd(item.Rule, item.Partition);
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
                ref var item = ref batch.Items[i];
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
        }
        finally
        {
            for (var i = locked - 1; i >= 0; i--)
            {
                buckets[i].Gate.Exit();
            }
        }
    }

    private Bucket GetOrAdd(RateLimitRule rule, PartitionKey partition)
    {
        var key = new BucketKey(rule, partition);
        if (_buckets.TryGetValue(key, out var bucket))
        {
            return bucket;
        }

        if (Volatile.Read(ref _count) >= _maxBuckets)
        {
            Sweep(force: true);
        }

        bucket = new Bucket(rule);
        if (_buckets.TryAdd(key, bucket))
        {
            Interlocked.Increment(ref _count);
            return bucket;
        }

        return _buckets.TryGetValue(key, out var existing) ? existing : GetOrAdd(rule, partition);
    }

    /// <summary>
    /// Forgets idle buckets; with <paramref name="force"/> (the bound is reached) also the least recently used
    /// until a tenth of the bound is free.
    /// </summary>
    internal void Sweep(bool force)
    {
        if (!_sweepLock.TryEnter())
        {
            return;
        }

        try
        {
            var now = NowMs();
            List<KeyValuePair<BucketKey, Bucket>>? busy = force ? [] : null;
            foreach (var pair in _buckets)
            {
                var bucket = pair.Value;
                bool idle;
                lock (bucket.Gate)
                {
                    idle = LeakyBucket.IsIdle(bucket.Rule, bucket.State, now);
                    if (idle)
                    {
                        bucket.Removed = true;
                    }
                }

                if (idle)
                {
                    Remove(pair);
                }
                else
                {
                    busy?.Add(pair);
                }
            }

            var target = _maxBuckets - Math.Max(_maxBuckets / 10, 1);
            if (busy is null || Volatile.Read(ref _count) <= target)
            {
                return;
            }

            busy.Sort(static (a, b) => a.Value.State.LastMs.CompareTo(b.Value.State.LastMs));
            foreach (var pair in busy)
            {
                if (Volatile.Read(ref _count) <= target)
                {
                    break;
                }

                lock (pair.Value.Gate)
                {
                    pair.Value.Removed = true;
                }

                Remove(pair);
            }
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

    public void Dispose() => _scanTimer?.Dispose();

    private readonly record struct BucketKey(RateLimitRule Rule, PartitionKey Partition);

    private sealed class Bucket(RateLimitRule rule)
    {
        public readonly Lock Gate = new();
        public readonly RateLimitRule Rule = rule;
        public BucketState State;
        public bool Removed;
    }
}
