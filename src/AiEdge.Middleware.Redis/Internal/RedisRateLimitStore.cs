using AiEdge.Middleware.Internal;
using AiEdge.Middleware.RateLimiting.Internal;

namespace AiEdge.Middleware.Redis.Internal;

/// <summary>
/// The rate-limit state of every replica in Redis: one Lua script decides a whole batch atomically on Redis's own
/// clock (<c>TIME</c>), with exactly <see cref="LeakyBucket"/>'s integer arithmetic, and commits only when every
/// rule admits. Each bucket is a hash <c>{e: excess milli-units, l: last ms}</c> under
/// <c>{prefix}rl:{StoreKey}:{{partition}}</c> (the partition is the Cluster hash tag, so every rule of one
/// partition lives in one slot) and expires once idle. While Redis is unreachable the decision is taken by the
/// replica's own in-memory store (fail-open) or the call throws (fail-closed).
/// </summary>
internal sealed class RedisRateLimitStore : IRateLimitStore
{
    // Decides several requests' batches in one call, one after another, each all-or-nothing exactly as a call of its
    // own would (a later batch sees what an earlier one committed). KEYS: every batch's keys, in order. ARGV[1]: ''
    // for Redis TIME, or a fixed now in ms (tests); ARGV[2]: the number of batches; then per batch its item count n
    // and 6 values per item: unit (0 requests, 1 tokens), rate numerator, rate denominator, capacity, delay
    // (-1: nodelay), cost. Returns per batch: admitted, then per item: admitted, delayMs, retryAfterMs, remaining, resetMs.
    // Lua numbers are doubles: exact while every product below stays under 2^53 (see docs/redis.md, sizing).
    internal static readonly RedisScript AcquireScript = new("ratelimit-acquire-batches", """
        local function fdiv(a, b)
          local q = math.floor(a / b)
          if q * b > a then q = q - 1 elseif (q + 1) * b <= a then q = q + 1 end
          return q
        end
        local function tdiv(a, b) if a < 0 then return -fdiv(-a, b) end return fdiv(a, b) end
        local function ceilms(num, den, milli)
          if milli <= 0 then return 0 end
          return fdiv(milli * den + num - 1, num)
        end
        local now
        if ARGV[1] == '' then
          local t = redis.call('TIME')
          now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        else
          now = tonumber(ARGV[1])
        end
        local out = {}
        local k, a = 0, 3
        for _ = 1, tonumber(ARGV[2]) do
          local n = tonumber(ARGV[a])
          a = a + 1
          local base = #out
          local nexts, exists, lasts = {}, {}, {}
          local all = 1
          out[base + 1] = 1
          for i = 1, n do
            local p = a + (i - 1) * 6
            local unit, num, den = tonumber(ARGV[p]), tonumber(ARGV[p + 1]), tonumber(ARGV[p + 2])
            local cap, delay, cost = tonumber(ARGV[p + 3]), tonumber(ARGV[p + 4]), tonumber(ARGV[p + 5])
            local s = redis.call('HMGET', KEYS[k + i], 'e', 'l')
            local ex = s[1] and tonumber(s[1]) or nil
            local excess, last, elapsed = 0, now, 0
            if ex then
              excess = ex
              last = tonumber(s[2])
              elapsed = math.max(now - last, 0)
            end
            local drained = 0
            if elapsed > 0 then
              if num * elapsed >= 4503599627370496 then drained = 4503599627370496 else drained = fdiv(num * elapsed, den) end
            end
            local admitted, delayms, retry, remaining, reset, nx = 1, 0, 0, 0, 0, 0
            if unit == 0 then
              if ex then nx = math.max(excess - drained + 1000, 0) end
              if nx > cap then
                admitted = 0
                retry = math.max(ceilms(num, den, excess + 1000 - cap) - elapsed, 1)
                reset = math.max(ceilms(num, den, excess + 1000) - elapsed, 0)
              else
                if delay >= 0 and nx > delay then delayms = fdiv((nx - delay) * den, num) end
                remaining = fdiv(cap - nx, 1000)
                reset = ceilms(num, den, nx + 1000)
              end
            else
              local level = 0
              if ex then level = math.max(excess - drained, 0) end
              nx = level + cost
              if nx > cap then
                admitted = 0
                retry = math.max(ceilms(num, den, excess - (cap - cost)) - elapsed, 1)
                remaining = tdiv(cap - level, 1000)
                reset = math.max(ceilms(num, den, excess) - elapsed, 0)
              else
                remaining = fdiv(cap - nx, 1000)
                reset = ceilms(num, den, nx)
              end
            end
            if admitted == 0 then all = 0 end
            nexts[i], exists[i], lasts[i] = nx, ex ~= nil, last
            local o = base + 1 + (i - 1) * 5
            out[o + 1], out[o + 2], out[o + 3], out[o + 4], out[o + 5] = admitted, delayms, retry, remaining, reset
          end
          out[base + 1] = all
          if all == 1 then
            for i = 1, n do
              local last = lasts[i]
              if (not exists[i]) or now > last then last = now end
              redis.call('HSET', KEYS[k + i], 'e', nexts[i], 'l', last)
              redis.call('PEXPIRE', KEYS[k + i], out[base + 1 + (i - 1) * 5 + 5] + 1000)
            end
          end
          k = k + n
          a = a + n * 6
        end
        return out
        """);

    // ARGV: now ('' for TIME), numerator, denominator, capacity, delta milli-tokens. Returns the tokens spendable at once.
    internal static readonly RedisScript ReconcileScript = new("ratelimit-reconcile", """
        local function fdiv(a, b)
          local q = math.floor(a / b)
          if q * b > a then q = q - 1 elseif (q + 1) * b <= a then q = q + 1 end
          return q
        end
        local now
        if ARGV[1] == '' then
          local t = redis.call('TIME')
          now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        else
          now = tonumber(ARGV[1])
        end
        local num, den, cap, delta = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
        local s = redis.call('HMGET', KEYS[1], 'e', 'l')
        local level, last = 0, now
        if s[1] then
          last = tonumber(s[2])
          local elapsed = math.max(now - last, 0)
          local drained = 0
          if elapsed > 0 then
            if num * elapsed >= 4503599627370496 then drained = 4503599627370496 else drained = fdiv(num * elapsed, den) end
          end
          level = math.max(tonumber(s[1]) - drained, 0)
          if now > last then last = now end
        end
        local nx = math.max(level + delta, 0)
        redis.call('HSET', KEYS[1], 'e', nx, 'l', last)
        local reset = 0
        if nx > 0 then reset = fdiv(nx * den + num - 1, num) end
        redis.call('PEXPIRE', KEYS[1], reset + 1000)
        return fdiv(math.max(cap - nx, 0), 1000)
        """);

    private const string Concern = "ratelimit";

    // One call carries at most this many requests' batches (and so at most a few hundred arguments).
    private const int MaxRequestsPerCall = 64;

    private readonly IRedisConnection _redis;
    private readonly IRateLimitStore _local;
    private readonly AiEdgeMetrics? _metrics;
    private readonly bool _failClosed;
    private readonly string _prefix;
    private readonly bool _coalesce;
    private readonly Lock _queueLock = new();
    private readonly Queue<PendingDecision> _queue = new();
    private bool _sending;
    private long _scriptCalls;

    public RedisRateLimitStore(IRedisConnection redis, IRateLimitStore local, RedisOptions options, AiEdgeMetrics? metrics)
    {
        _redis = redis;
        _local = local;
        _metrics = metrics;
        _failClosed = options.FailureMode == RedisFailureMode.FailClosed;
        _prefix = options.KeyPrefix + "rl:";
        _coalesce = options.CoalesceRateLimitDecisions;
    }

    /// <summary>Gets the number of script calls made for decisions (fewer than the decisions when they were coalesced).</summary>
    internal long ScriptCalls => Interlocked.Read(ref _scriptCalls);

    /// <summary>Gets or sets a fixed Redis-side clock (ms) for tests; <see langword="null"/> uses Redis <c>TIME</c>.</summary>
    internal long? FixedNowMs { get; set; }

    /// <summary>Builds the key of a bucket: the partition is the hash tag.</summary>
    internal string Key(RateLimitRule rule, PartitionKey partition) => string.Concat(_prefix, rule.StoreKey, ":{", partition.ToString(), "}");

    public ValueTask AcquireAsync(RateLimitBatch batch, CancellationToken cancellationToken)
    {
        if (!_redis.IsConnected)
        {
            return Fallback(batch, cancellationToken, null);
        }

        return AcquireRemoteAsync(batch, cancellationToken);
    }

    private async ValueTask AcquireRemoteAsync(RateLimitBatch batch, CancellationToken cancellationToken)
    {
        // Everything the call needs is copied out of the batch now: a caller that gives up (cancellation) may hand
        // its batch back to a pool while the call is still on its way.
        var pending = new PendingDecision(this, batch);
        if (_coalesce)
        {
            bool send;
            lock (_queueLock)
            {
                _queue.Enqueue(pending);
                send = !_sending;
                _sending = true;
            }

            if (send)
            {
                _ = SendQueuedAsync();
            }
        }
        else
        {
            _ = SendAsync([pending], 1);
        }

        try
        {
            await (cancellationToken.CanBeCanceled ? pending.Task.WaitAsync(cancellationToken) : pending.Task).ConfigureAwait(false);
        }
        catch (RedisConnectionException ex)
        {
            await Fallback(batch, cancellationToken, ex).ConfigureAwait(false);
            return;
        }

        pending.CopyResultsTo(batch);
    }

    /// <summary>
    /// Sends what is queued, one call at a time: decisions that arrive while a call is on its way wait for it and
    /// then go together in the next one. A lone decision goes at once; under load one script call decides many.
    /// </summary>
    private async Task SendQueuedAsync()
    {
        var group = new PendingDecision[MaxRequestsPerCall];
        while (true)
        {
            var count = 0;
            lock (_queueLock)
            {
                while (count < group.Length && _queue.TryDequeue(out var next))
                {
                    group[count++] = next;
                }

                if (count == 0)
                {
                    _sending = false;
                    return;
                }
            }

            await SendAsync(group, count).ConfigureAwait(false);
            Array.Clear(group, 0, count);
        }
    }

    /// <summary>Decides <paramref name="count"/> requests' batches in one script call and completes each of them; never throws.</summary>
    private async Task SendAsync(PendingDecision[] group, int count)
    {
        try
        {
            var keyCount = 0;
            var valueCount = 2;
            for (var i = 0; i < count; i++)
            {
                keyCount += group[i].Keys.Length;
                valueCount += 1 + group[i].Values.Length;
            }

            var args = new RedisArg[keyCount + valueCount];
            var key = 0;
            var value = keyCount;
            args[value++] = FixedNowMs is { } fixedNow ? fixedNow : string.Empty;
            args[value++] = count;
            for (var i = 0; i < count; i++)
            {
                var pending = group[i];
                foreach (var k in pending.Keys)
                {
                    args[key++] = k;
                }

                args[value++] = pending.Keys.Length;
                foreach (var v in pending.Values)
                {
                    args[value++] = v;
                }
            }

            Interlocked.Increment(ref _scriptCalls);
            var reply = await _redis.EvaluateAsync(AcquireScript, keyCount, args).ConfigureAwait(false);
            if (reply.Type != RespType.Array || reply.Items!.Length != keyCount * 5 + count)
            {
                throw new RedisConnectionException("Unexpected reply to the rate-limit script: " + reply);
            }

            var offset = 0;
            for (var i = 0; i < count; i++)
            {
                offset = group[i].Complete(reply.Items, offset);
            }
        }
        catch (Exception ex)
        {
            var error = ex as RedisConnectionException ?? new RedisConnectionException("The rate-limit script failed.", ex);
            for (var i = 0; i < count; i++)
            {
                group[i].TrySetException(error);
            }
        }
    }

    public ValueTask<long> ReconcileAsync(RateLimitRule rule, PartitionKey partition, long deltaMilli, long nowMs, CancellationToken cancellationToken)
    {
        if (!_redis.IsConnected)
        {
            return ReconcileFallback(rule, partition, deltaMilli, nowMs, cancellationToken, null);
        }

        return ReconcileRemoteAsync(rule, partition, deltaMilli, nowMs, cancellationToken);
    }

    private async ValueTask<long> ReconcileRemoteAsync(RateLimitRule rule, PartitionKey partition, long deltaMilli, long nowMs, CancellationToken cancellationToken)
    {
        RedisArg now = FixedNowMs is { } fixedNow ? fixedNow : string.Empty;
        try
        {
            var reply = await _redis.EvaluateAsync(ReconcileScript, 1, [Key(rule, partition), now, rule.RateNumerator, rule.RateDenominator, rule.CapacityMilli, deltaMilli]).ConfigureAwait(false);
            if (reply.Type == RespType.Integer)
            {
                return reply.Integer;
            }

            return await ReconcileFallback(rule, partition, deltaMilli, nowMs, cancellationToken, new RedisConnectionException("Unexpected reply to the reconcile script: " + reply)).ConfigureAwait(false);
        }
        catch (RedisConnectionException ex)
        {
            return await ReconcileFallback(rule, partition, deltaMilli, nowMs, cancellationToken, ex).ConfigureAwait(false);
        }
    }

    private ValueTask Fallback(RateLimitBatch batch, CancellationToken cancellationToken, RedisConnectionException? error)
    {
        if (_redis.State == RedisConnectionState.NotConfigured)
        {
            return _local.AcquireAsync(batch, cancellationToken);
        }

        if (_failClosed)
        {
            return ValueTask.FromException(error ?? new RedisConnectionException("Redis is not connected."));
        }

        _metrics?.RedisFallback(Concern);
        return _local.AcquireAsync(batch, cancellationToken);
    }

    private ValueTask<long> ReconcileFallback(RateLimitRule rule, PartitionKey partition, long deltaMilli, long nowMs, CancellationToken cancellationToken, RedisConnectionException? error)
    {
        // Reconciliation happens after the response: even fail-closed it is booked locally rather than lost.
        _ = error;
        if (_redis.State != RedisConnectionState.NotConfigured)
        {
            _metrics?.RedisFallback(Concern);
        }

        return _local.ReconcileAsync(rule, partition, deltaMilli, nowMs, cancellationToken);
    }

    /// <summary>One request's batch on its way to Redis: its keys and values, then its results.</summary>
    private sealed class PendingDecision : TaskCompletionSource
    {
        private readonly long[] _results;

        public PendingDecision(RedisRateLimitStore store, RateLimitBatch batch)
            : base(TaskCreationOptions.RunContinuationsAsynchronously)
        {
            var count = batch.Count;
            Keys = new string[count];
            Values = new long[count * 6];
            _results = new long[1 + count * 5];
            for (var i = 0; i < count; i++)
            {
                ref var item = ref batch.Items[i];
                var rule = item.Rule;
                Keys[i] = store.Key(rule, item.Partition);
                var b = i * 6;
                Values[b] = rule.Unit == RateLimitUnit.Requests ? 0 : 1;
                Values[b + 1] = rule.RateNumerator;
                Values[b + 2] = rule.RateDenominator;
                Values[b + 3] = rule.CapacityMilli;
                Values[b + 4] = rule.NoDelay ? -1 : rule.DelayMilli;
                Values[b + 5] = item.CostMilli;
            }
        }

        public string[] Keys { get; }

        public long[] Values { get; }

        /// <summary>Takes this batch's results from the reply at <paramref name="offset"/>; returns the offset after them.</summary>
        public int Complete(RedisValue[] items, int offset)
        {
            for (var i = 0; i < _results.Length; i++)
            {
                _results[i] = items[offset + i].Integer;
            }

            TrySetResult();
            return offset + _results.Length;
        }

        public void CopyResultsTo(RateLimitBatch batch)
        {
            batch.Admitted = _results[0] == 1;
            for (var i = 0; i < batch.Count; i++)
            {
                var o = 1 + i * 5;
                ref var result = ref batch.Results[i];
                result.Admitted = _results[o] == 1;
                result.DelayMs = _results[o + 1];
                result.RetryAfterMs = _results[o + 2];
                result.Remaining = _results[o + 3];
                result.ResetMs = _results[o + 4];
            }
        }
    }
}
