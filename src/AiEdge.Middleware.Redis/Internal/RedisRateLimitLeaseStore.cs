using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using AiEdge.Middleware.RateLimiting;
using StackExchange.Redis;

namespace AiEdge.Middleware.Redis.Internal;

/// <summary>
/// Rate-limit leases over the exact Redis store (<see cref="RedisRateLimitLeaseOptions"/>): for a single-rule decision
/// of a <c>nodelay</c> request tier, a replica takes a lease of several requests of the bucket in one script call,
/// charging the shared bucket up front only when the whole lease fits (exactly as that many requests arriving at once
/// would be charged), then admits locally from it until it is used up or its lifetime ends. Every other decision
/// (several rules, tokens, a delay, a burst too small to lease, a bucket this replica sees rarely) goes to the exact
/// store unchanged.
/// </summary>
/// <remarks>
/// <para>Why the shared limit is never exceeded: every admitted request was charged to the shared bucket before it was
/// admitted, by the same arithmetic as an exact decision, and a lease is granted only when the bucket admits all of it
/// at that instant. Leased requests may be admitted up to a lifetime after they were charged, so a window of the
/// limit may see at most <c>min(replicas × (lease − 1), rate × lifetime)</c> requests that exact accounting would put
/// in the window before it; at one instant (no drain) the fleet admits exactly at most what the bucket allows.</para>
/// <para>What may be refused early: a lease's unused requests stay charged (never given back: giving back after the
/// bucket drained could erase other replicas' charges). A replica holds at most one live lease per bucket, and a lease
/// holds at most what the bucket drains in one lifetime, so an expired lease's unused requests are drained back about
/// a lifetime later: at any instant at most about <c>2 × replicas × (lease − 1)</c> requests are held away from the
/// others. To keep what a quiet replica strands small, a bucket's first decisions on a replica are exact, its first
/// lease holds 2, a lease used up within its lifetime doubles the next one (up to the largest), and a lease that
/// expired partly unused sizes the next by what it served (under 2: exact again). Near the limit, when a lease does
/// not fit, the same script call decides the one request exactly.</para>
/// /// <para>The RateLimit fields of a locally admitted request: remaining is the lease's unused requests plus what the
/// shared bucket had left when the lease was granted (exact at the grant, stale by what other replicas took since);
/// the reset is the grant's, less the time since.</para>
/// </remarks>
internal sealed class RedisRateLimitLeaseStore : IRateLimitStore
{
    // ARGV: now ('' for Redis TIME, or fixed ms), rate numerator, denominator, capacity (milli), lease size n (>= 2).
    // Charges n requests at once when all n fit (the state n requests arriving at the same instant leave, by
    // LeakyBucket's arithmetic), else decides one request exactly as the batch script does. Returns {granted (n, 1,
    // or 0 when refused), retryAfterMs (refused) or 0, remaining after the charge, nextMs}.
    internal static readonly RedisScript LeaseScript = new("ratelimit-lease", RedisRateLimitStore.ScriptPrelude + """
        local num, den, cap, n = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
        local s = redis.call('HMGET', KEYS[1], 'e', 'l')
        local excess, last, elapsed, first = 0, now, 0, 0
        if s[1] then
          excess, last = tonumber(s[1]), tonumber(s[2])
          elapsed = max(now - last, 0)
          local drained = 0
          if elapsed > 0 then
            if num * elapsed >= 4503599627370496 then drained = 4503599627370496 else drained = fdiv(num * elapsed, den) end
          end
          first = max(excess - drained + 1000, 0)
        end
        if first > cap then
          local retry = max(ceilms(num, den, excess + 1000 - cap) - elapsed, 1)
          return {0, retry, 0, retry}
        end
        local granted, nx = 1, first
        local full = first + (n - 1) * 1000
        if full <= cap then granted, nx = n, full end
        if (not s[1]) or now > last then last = now end
        redis.call('HSET', KEYS[1], 'e', nx, 'l', last)
        redis.call('PEXPIRE', KEYS[1], ceilms(num, den, nx + 1000) + 1000)
        return {granted, 0, fdiv(cap - nx, 1000), ceilms(num, den, 1000 - (cap - nx) % 1000)}
        """);

    private static readonly Func<BucketKey, Lease> NewLease = static _ => new Lease();

    private readonly RedisRateLimitStore _exact;
    private readonly IRedisConnection _redis;
    private readonly TimeProvider _time;
    private readonly double _fraction;
    private readonly long _lifetime;
    private readonly double _lifetimeMs;
    private readonly long _sweepInterval;
    private readonly ConcurrentDictionary<BucketKey, Lease> _leases = new();
    private long _nextSweep;
    private long _leaseCalls;

    public RedisRateLimitLeaseStore(RedisRateLimitStore exact, IRedisConnection redis, RedisRateLimitLeaseOptions options, TimeProvider time)
    {
        _exact = exact;
        _redis = redis;
        _time = time;
        _fraction = options.BurstFraction;
        _lifetime = Math.Max((long)(options.Lifetime.TotalSeconds * time.TimestampFrequency), 1);
        _lifetimeMs = options.Lifetime.TotalMilliseconds;
        _sweepInterval = Math.Max(_lifetime * 50, time.TimestampFrequency * 10);
        _nextSweep = time.GetTimestamp() + _sweepInterval;
    }

    /// <summary>Gets the number of lease script calls made (each decides one request, and leases more when they fit).</summary>
    internal long LeaseCalls => Interlocked.Read(ref _leaseCalls);

    /// <summary>Gets the largest lease of <paramref name="rule"/>'s buckets: 0 when its decisions stay exact.</summary>
    internal int MaxLease(RateLimitRule rule)
    {
        if (rule.Unit != RateLimitUnit.Requests || !rule.NoDelay)
        {
            return 0;
        }

        // At most a fraction of the burst, and at most what the bucket drains in a lifetime, so the unused requests of
        // an expired lease are back in the shared bucket about one lifetime later.
        var size = Math.Min(
            Math.Floor(rule.CapacityMilli / (double)LeakyBucket.OneRequest * _fraction),
            Math.Floor(rule.RateNumerator / (double)rule.RateDenominator * _lifetimeMs / LeakyBucket.OneRequest));
        return size < 2 ? 0 : size > 1_000_000 ? 1_000_000 : (int)size;
    }

    public ValueTask AcquireAsync(RateLimitBatch batch, CancellationToken cancellationToken)
    {
        if (batch.Count != 1)
        {
            return _exact.AcquireAsync(batch, cancellationToken);
        }

        var item = batch.Items[0];
        var max = MaxLease(item.Rule);
        if (max == 0)
        {
            return _exact.AcquireAsync(batch, cancellationToken);
        }

        var lease = _leases.GetOrAdd(new BucketKey(item.Rule, item.Partition), NewLease);
        var now = _time.GetTimestamp();
        int size;
        lock (lease.Gate)
        {
            if (lease.Left > 0 && now < lease.ExpiresAt)
            {
                lease.Left--;
                ref var result = ref batch.Results[0];
                result = default;
                result.Admitted = true;
                result.Remaining = lease.Left + lease.SharedRemaining;
                result.NextMs = Math.Max(lease.NextMs - (long)_time.GetElapsedTime(lease.GrantedAt, now).TotalMilliseconds, 1);
                batch.Admitted = true;
                return ValueTask.CompletedTask;
            }

            size = lease.Refilling || !_redis.IsConnected ? 0 : NextSize_NeedsLock(lease, now, max);
            if (size < 2)
            {
                lease.SawExact = true;
                lease.LastExactAt = now;
            }
            else
            {
                lease.Refilling = true;
            }
        }

        SweepWhenDue(now);
        return size < 2 ? _exact.AcquireAsync(batch, cancellationToken) : LeaseAsync(batch, lease, size, now, cancellationToken);
    }

    public ValueTask<long> ReconcileAsync(RateLimitRule rule, PartitionKey partition, long deltaMilli, long nowMs, CancellationToken cancellationToken)
        => _exact.ReconcileAsync(rule, partition, deltaMilli, nowMs, cancellationToken);

    /// <summary>The size of the next lease: 2 once the bucket is seen twice within a lifetime, doubled after a lease
    /// used up in time, else what the last lease served; under 2 means decide exactly.</summary>
    private int NextSize_NeedsLock(Lease lease, long now, int max)
    {
        if (lease.Size == 0)
        {
            return lease.SawExact && now - lease.LastExactAt < _lifetime ? 2 : 1;
        }

        var size = lease.Left == 0 && now < lease.ExpiresAt ? lease.Size * 2 : lease.Size - lease.Left;
        lease.Size = 0;
        lease.Left = 0;
        return Math.Min(size, max);
    }

    private async ValueTask LeaseAsync(RateLimitBatch batch, Lease lease, int size, long now, CancellationToken cancellationToken)
    {
        var item = batch.Items[0];
        RedisResult? reply = null;
        try
        {
            Interlocked.Increment(ref _leaseCalls);
            RedisValue fixedNow = _exact.FixedNowMs is { } ms ? ms : RedisValue.EmptyString;
            reply = await _redis.EvaluateAsync(
                LeaseScript,
                [_exact.Key(item.Rule, item.Partition)],
                [fixedNow, item.Rule.RateNumerator, item.Rule.RateDenominator, item.Rule.CapacityMilli, size]).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // Any failure of the call hands the decision to the exact store, which applies the failure mode.
        catch (Exception)
#pragma warning restore CA1031
        {
            reply = null;
        }

        if (reply is null || reply.Resp2Type != ResultType.Array || reply.Length != 4)
        {
            lock (lease.Gate)
            {
                lease.Refilling = false;
            }

            await _exact.AcquireAsync(batch, cancellationToken).ConfigureAwait(false);
            return;
        }

        var granted = (long)reply[0];
        var retryAfter = (long)reply[1];
        var remaining = (long)reply[2];
        var next = (long)reply[3];
        lock (lease.Gate)
        {
            lease.Refilling = false;
            if (granted >= 2)
            {
                lease.Size = (int)granted;
                lease.Left = (int)granted - 1;
                lease.GrantedAt = now;
                lease.ExpiresAt = now + _lifetime;
                lease.SharedRemaining = remaining;
                lease.NextMs = next;
            }
            else
            {
                lease.SawExact = true;
                lease.LastExactAt = now;
            }
        }

        ref var result = ref batch.Results[0];
        result = default;
        if (granted == 0)
        {
            result.RetryAfterMs = retryAfter;
            result.NextMs = next;
            batch.Admitted = false;
            return;
        }

        result.Admitted = true;
        result.Remaining = remaining + granted - 1;
        result.NextMs = next;
        batch.Admitted = true;
    }

    /// <summary>Forgets, now and then, the buckets this replica holds no live lease of and has not decided lately.</summary>
    private void SweepWhenDue(long now)
    {
        var due = Interlocked.Read(ref _nextSweep);
        if (now < due || Interlocked.CompareExchange(ref _nextSweep, now + _sweepInterval, due) != due)
        {
            return;
        }

        // A request that still holds a forgotten lease may lease into it; those requests stay charged and are
        // admitted by it alone, so forgetting never admits more than the bucket allows.
        foreach (var (key, lease) in _leases)
        {
            lock (lease.Gate)
            {
                if (lease.Refilling || now < lease.ExpiresAt + _lifetime || (lease.SawExact && now - lease.LastExactAt < _lifetime))
                {
                    continue;
                }
            }

            _leases.TryRemove(key, out _);
        }
    }

    /// <summary>A bucket, by rule reference (rules are built once) and partition.</summary>
    private readonly struct BucketKey(RateLimitRule rule, PartitionKey partition) : IEquatable<BucketKey>
    {
        private readonly RateLimitRule _rule = rule;
        private readonly PartitionKey _partition = partition;

        public bool Equals(BucketKey other) => ReferenceEquals(_rule, other._rule) && _partition.Equals(other._partition);

        public override bool Equals(object? obj) => obj is BucketKey other && Equals(other);

        public override int GetHashCode() => HashCode.Combine(RuntimeHelpers.GetHashCode(_rule), _partition.GetHashCode());
    }

    /// <summary>This replica's lease of one bucket; every field is guarded by <see cref="Gate"/>.</summary>
    private sealed class Lease
    {
        public readonly Lock Gate = new();
        public int Size;
        public int Left;
        public long GrantedAt;
        public long ExpiresAt;
        public long SharedRemaining;
        public long NextMs;
        public bool SawExact;
        public long LastExactAt;
        public bool Refilling;
    }
}
