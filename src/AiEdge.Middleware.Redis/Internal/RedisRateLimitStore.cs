using System.Collections.Concurrent;
using System.Text;
using AiEdge.Middleware.Internal;
using AiEdge.Middleware.RateLimiting;
using StackExchange.Redis;

namespace AiEdge.Middleware.Redis.Internal;

/// <summary>
/// The rate-limit state of every replica in Redis: one Lua script decides requests' batches atomically on Redis's own
/// clock (<c>TIME</c>), with exactly <see cref="LeakyBucket"/>'s integer arithmetic, and commits a batch only when
/// every rule admits. Each bucket is a hash <c>{e: excess milli-units, l: last ms}</c> under
/// <c>{prefix}{rl}:{StoreKey}:{partition}</c> and expires once idle. Every bucket carries the same Redis Cluster
/// hash tag <c>{rl}</c>, so all of them live in one slot: one script can decide any request's rules together (a
/// request's rules may partition by different keys, say the client IP and the API key, and a bucket is shared by
/// requests in any combination), and any set of concurrent requests can share a call. That keeps every limit exact
/// and every decision all-or-nothing on a cluster, at the price of one primary holding all rate-limit state. While Redis is unreachable the decision is taken by the
/// replica's own in-memory store (fail-open) or the call throws (fail-closed). Deciding locally, a replica enforces its
/// share of each rule (<see cref="RateLimitRule.Share"/>, divided by the replicas <see cref="RedisReplicaPresence"/>
/// last saw), so the fleet's total stays near the shared limit.
/// </summary>
/// <remarks>
/// Decisions of concurrent requests share script calls: a lone decision is sent at once; those that arrive while a
/// call is on its way queue and go together (up to <see cref="MaxRequestsPerCall"/>) in the next one, decided in
/// arrival order. Each request encodes its bucket keys once, on its own thread, into a pooled
/// <see cref="PendingDecision"/> that it awaits as a <see cref="ValueTask"/>; the single sender names each distinct
/// key and rule of the call once, copies the encoded keys into the connection's buffer, and settles every decision
/// from the reply, or by the failure mode when the call fails. A caller that is cancelled is released at once; its decision is left out if its call was not written yet,
/// and applied in Redis (its result discarded) if it was.
/// </remarks>
internal sealed partial class RedisRateLimitStore : IRateLimitStore
{
    // What every rate-limit script starts with: floor and max, floor division exact on doubles (fdiv), the milliseconds
    // until a level drains (ceilms), and now: ARGV[1] in ms, or Redis's own clock (TIME) when it is empty. Each script
    // is this text followed by its own (RedisRateLimitLeaseStore's lease script too).
    internal const string ScriptPrelude = """
        local floor, max = math.floor, math.max
        local function fdiv(a, b)
          local q = floor(a / b)
          if q * b > a then q = q - 1 elseif (q + 1) * b <= a then q = q + 1 end
          return q
        end
        local function ceilms(num, den, milli)
          if milli <= 0 then return 0 end
          return fdiv(milli * den + num - 1, num)
        end
        local now
        if ARGV[1] == '' then
          local t = redis.call('TIME')
          now = tonumber(t[1]) * 1000 + floor(tonumber(t[2]) / 1000)
        else
          now = tonumber(ARGV[1])
        end
        """ + "\n";

    // Decides several requests' batches in one call, one after another, each all-or-nothing exactly as a call of its
    // own would (a later batch sees what an earlier one committed). KEYS: the call's distinct buckets. ARGV[1]: ''
    // for Redis TIME, or a fixed now in ms (tests); ARGV[2]: the number of batches; ARGV[3]: the number of distinct
    // rules R, then 5 values per rule: unit (0 requests, 1 tokens), rate numerator, rate denominator, capacity,
    // delay (-1: nodelay); then one binary argument holding the batches, read with struct.unpack: per batch its item
    // count n (uint16), then per item its key index and rule index (uint16 each, from 1) and its cost (int64), all
    // little-endian. One argument rather than three per item: Redis parses every argument and makes a Lua string of
    // it, which cost more than deciding the item.
    // Returns 3 integers per item, batch after batch: delayMs when the item admits (0 or more), or -retryAfterMs when
    // it refuses (retry-after is at least 1 ms); remaining; nextMs (LeakyBucket's NextMs). A batch is admitted when
    // every item admits. A bucket is read once per call (HMGET) and, when a batch committed to it, written once at
    // the end (HSET and PEXPIRE of its last commit): between batches its state lives in the call's tables, holding
    // what the hash would, so many decisions on one hot bucket cost Redis one read and one write per call. The TTL is
    // the committed state's full drain time (resetMs) plus a second: a key disappears only once its bucket is idle,
    // when forgetting it changes no decision.
    // Lua numbers are doubles: exact while every product below stays under 2^53 (see docs/redis.md, sizing).
    internal static readonly RedisScript AcquireScript = new("ratelimit-acquire-batches", ScriptPrelude + """
        local function tdiv(a, b) if a < 0 then return -fdiv(-a, b) end return fdiv(a, b) end
        local rules = {}
        local a = 4 + tonumber(ARGV[3]) * 5
        for j = 4, a - 1 do rules[j - 3] = tonumber(ARGV[j]) end
        local read, ce, cl, ttl, dirty = {}, {}, {}, {}, {}
        local nexts, exists, lasts, keys, resets = {}, {}, {}, {}, {}
        local out = {}
        local items, pos, unpack = ARGV[a], 1, struct.unpack
        for _ = 1, tonumber(ARGV[2]) do
          local n
          n, pos = unpack('<H', items, pos)
          local base = #out
          local all = 1
          for i = 1, n do
            local key, r, cost
            key, r, cost, pos = unpack('<HHi8', items, pos)
            r = r * 5 - 4
            local unit, num, den, cap, delay = rules[r], rules[r + 1], rules[r + 2], rules[r + 3], rules[r + 4]
            if not read[key] then
              local s = redis.call('HMGET', KEYS[key], 'e', 'l')
              read[key] = true
              if s[1] then ce[key], cl[key] = tonumber(s[1]), tonumber(s[2]) end
            end
            local ex = ce[key]
            local excess, last, elapsed = 0, now, 0
            if ex then
              excess = ex
              last = cl[key]
              elapsed = max(now - last, 0)
            end
            local drained = 0
            if elapsed > 0 then
              if num * elapsed >= 4503599627370496 then drained = 4503599627370496 else drained = fdiv(num * elapsed, den) end
            end
            local admitted, delayms, retry, remaining, reset, nextms, nx = 1, 0, 0, 0, 0, 0, 0
            if unit == 0 then
              if ex then nx = max(excess - drained + 1000, 0) end
              if nx > cap then
                admitted = 0
                retry = max(ceilms(num, den, excess + 1000 - cap) - elapsed, 1)
                nextms = retry
              else
                if delay >= 0 and nx > delay then delayms = fdiv((nx - delay) * den, num) end
                remaining = fdiv(cap - nx, 1000)
                reset = ceilms(num, den, nx + 1000)
                nextms = ceilms(num, den, 1000 - (cap - nx) % 1000)
              end
            else
              local level = 0
              if ex then level = max(excess - drained, 0) end
              nx = level + cost
              if nx > cap then
                admitted = 0
                retry = max(ceilms(num, den, excess - (cap - cost)) - elapsed, 1)
                remaining = tdiv(cap - level, 1000)
                if level == 0 then
                  nextms = ceilms(num, den, 1000)
                else
                  nextms = max(ceilms(num, den, excess - cap + (remaining + 1) * 1000) - elapsed, 1)
                end
              else
                remaining = fdiv(cap - nx, 1000)
                reset = ceilms(num, den, nx)
                if nx == 0 then nextms = ceilms(num, den, 1000) else nextms = ceilms(num, den, 1000 - (cap - nx) % 1000) end
              end
            end
            if admitted == 0 then all = 0 end
            keys[i], nexts[i], exists[i], lasts[i], resets[i] = key, nx, ex ~= nil, last, reset
            local o = base + (i - 1) * 3
            if admitted == 1 then out[o + 1] = delayms else out[o + 1] = -retry end
            out[o + 2], out[o + 3] = remaining, nextms
          end
          if all == 1 then
            for i = 1, n do
              local key = keys[i]
              local last = lasts[i]
              if (not exists[i]) or now > last then last = now end
              if not ttl[key] then dirty[#dirty + 1] = key end
              ce[key], cl[key] = nexts[i], last
              ttl[key] = resets[i] + 1000
            end
          end
        end
        for _, key in ipairs(dirty) do
          redis.call('HSET', KEYS[key], 'e', ce[key], 'l', cl[key])
          redis.call('PEXPIRE', KEYS[key], ttl[key])
        end
        return out
        """);

    // ARGV: now ('' for TIME), numerator, denominator, capacity, delta milli-tokens. Returns the tokens spendable at once.
    internal static readonly RedisScript ReconcileScript = new("ratelimit-reconcile", ScriptPrelude + """
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

    /// <summary>The Redis Cluster hash tag every rate-limit key carries (one slot for all buckets).</summary>
    internal const string HashTag = "{rl}";

    // One call carries at most this many requests' batches, and at most this many items (unless one batch alone has
    // more), so a call stays a few KiB and Redis is never busy with one script for long.
    private const int MaxRequestsPerCall = 64;
    private const int MaxItemsPerCall = 256;

    // Decisions kept for reuse: enough for every request a loaded replica has waiting at once.
    private const int MaxPooledDecisions = 1024;

    private readonly IRedisConnection _redis;
    private readonly IRateLimitStore _local;
    private readonly RedisReplicaPresence? _presence;
    private readonly ConcurrentQueue<RateLimitBatch> _shareBatches = new();
    private readonly RedisMetrics? _metrics;
    private readonly bool _failClosed;
    private readonly string _prefix;
    private readonly byte[] _prefixBytes;
    private readonly bool _coalesce;
    private readonly Lock _queueLock = new();
    private readonly Queue<PendingDecision> _queue = new();
    private readonly DecisionCall _queuedCall;
    private readonly ConcurrentQueue<PendingDecision> _pool = new();
    private int _pooled;
    private bool _sending;
    private long _scriptCalls;

    public RedisRateLimitStore(IRedisConnection redis, IRateLimitStore local, RedisOptions options, RedisMetrics? metrics, RedisReplicaPresence? presence = null)
    {
        _presence = presence is { Enabled: true } ? presence : null;
        _redis = redis;
        _local = local;
        _metrics = metrics;
        _failClosed = options.FailureMode == RedisFailureMode.FailClosed;
        _prefix = options.KeyPrefix + HashTag + ":";
        _prefixBytes = Encoding.UTF8.GetBytes(_prefix);
        _coalesce = options.CoalesceRateLimitDecisions;
        _queuedCall = new DecisionCall(MaxRequestsPerCall);
    }

    /// <summary>Gets the number of script calls made for decisions (fewer than the decisions when they were coalesced).</summary>
    internal long ScriptCalls => Interlocked.Read(ref _scriptCalls);

    /// <summary>Gets or sets a fixed Redis-side clock (ms) for tests; <see langword="null"/> uses Redis <c>TIME</c>.</summary>
    internal long? FixedNowMs { get; set; }

    /// <summary>Builds the key of a bucket: <c>{prefix}{rl}:{StoreKey}:{partition}</c>.</summary>
    internal string Key(RateLimitRule rule, PartitionKey partition) => string.Concat(_prefix, rule.StoreKey, ":", partition.ToString());

    public ValueTask AcquireAsync(RateLimitBatch batch, CancellationToken cancellationToken)
    {
        if (!_redis.IsConnected)
        {
            return Fallback(batch, cancellationToken, null);
        }

        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }

        // The decision copies what the call needs (its keys, encoded; rules and costs) out of the batch now; the batch is
        // written again only by whoever settles the decision first: the call's reply, or the caller's cancellation.
        var decision = RentDecision();
        var task = decision.Start(batch, cancellationToken);
        if (!_coalesce)
        {
            var call = new DecisionCall(1);
            call.Add(decision);
            _ = SendAsync(call);
            return task;
        }

        bool send;
        lock (_queueLock)
        {
            _queue.Enqueue(decision);
            send = !_sending;
            _sending = true;
        }

        if (send)
        {
            // Runs on this thread up to the write of the call: a lone decision leaves at once.
            _ = SendQueuedAsync();
        }

        return task;
    }

    /// <summary>
    /// Sends what is queued, one call at a time: decisions that arrive while a call is on its way wait for it and
    /// then go together in the next one. A lone decision goes at once; under load one script call decides many.
    /// </summary>
    private async Task SendQueuedAsync()
    {
        // Only one sender runs at a time (_sending), so it reuses one call.
        var call = _queuedCall;
        while (true)
        {
            lock (_queueLock)
            {
                while (call.DecisionCount < MaxRequestsPerCall && _queue.TryPeek(out var next))
                {
                    if (call.DecisionCount > 0 && call.ItemCount + next.ItemCount > MaxItemsPerCall)
                    {
                        break;
                    }

                    _queue.Dequeue();
                    call.Add(next);
                }

                if (call.DecisionCount == 0)
                {
                    _sending = false;
                    return;
                }
            }

            await SendAsync(call).ConfigureAwait(false);
        }
    }

    /// <summary>Decides every request of <paramref name="call"/> in one script call and settles each of them; never throws.</summary>
    private async Task SendAsync(DecisionCall call)
    {
        RedisConnectionException? error;
        try
        {
            // Decisions whose callers gave up before the call was written are not sent at all.
            if (call.RemoveSettled() == 0)
            {
                return;
            }

            call.Prepare(FixedNowMs);
            Interlocked.Increment(ref _scriptCalls);
            var reply = await _redis.EvaluateAsync(AcquireScript, call.Keys, call.Arguments).ConfigureAwait(false);
            if (call.TryComplete(reply))
            {
                return;
            }

            error = new RedisConnectionException("Unexpected reply to the rate-limit script: " + reply);
        }
        catch (RedisConnectionException ex)
        {
            error = ex;
        }
        catch (Exception ex)
        {
            error = new RedisConnectionException("The rate-limit script failed.", ex);
        }

        call.Fail(error);
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
        var now = FixedNowMs is { } fixedNow ? fixedNow : RedisValue.EmptyString;
        try
        {
            var reply = await _redis.EvaluateAsync(ReconcileScript, [Key(rule, partition)], [now, rule.RateNumerator, rule.RateDenominator, rule.CapacityMilli, deltaMilli]).ConfigureAwait(false);
            if (reply.Resp2Type == ResultType.Integer)
            {
                return (long)reply;
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
        return LocalAcquireAsync(batch, cancellationToken);
    }

    /// <summary>
    /// Decides <paramref name="batch"/> in the local store with this replica's share of each rule: a copy of the batch
    /// over the shared rules goes to the local store, and its outcome is copied back (the caller's batch keeps its
    /// own rules, so the advertised policy stays the shared one).
    /// </summary>
    private ValueTask LocalAcquireAsync(RateLimitBatch batch, CancellationToken cancellationToken)
    {
        var presence = _presence;
        if (presence is null || presence.Replicas == 1)
        {
            return _local.AcquireAsync(batch, cancellationToken);
        }

        if (!_shareBatches.TryDequeue(out var share))
        {
            share = new RateLimitBatch();
        }

        share.NowMs = batch.NowMs;
        foreach (ref readonly var item in batch.Items)
        {
            share.Add(presence.Share(item.Rule), item.Partition, item.CostMilli);
        }

        var local = _local.AcquireAsync(share, cancellationToken);
        if (!local.IsCompletedSuccessfully)
        {
            return CopyWhenDoneAsync(local, share, batch);
        }

        local.GetAwaiter().GetResult();
        CopyOutcome(share, batch);
        return ValueTask.CompletedTask;
    }

    private async ValueTask CopyWhenDoneAsync(ValueTask local, RateLimitBatch share, RateLimitBatch batch)
    {
        try
        {
            await local.ConfigureAwait(false);
        }
        catch
        {
            share.Reset();
            _shareBatches.Enqueue(share);
            throw;
        }

        CopyOutcome(share, batch);
    }

    private void CopyOutcome(RateLimitBatch share, RateLimitBatch batch)
    {
        // Same items in the same order: Add keeps the caller's (already sorted) order, since the shares keep the lock orders.
        share.Results.CopyTo(batch.Results);
        batch.Admitted = share.Admitted;
        batch.TableFull = share.TableFull;
        batch.TableFullRetryAfterMs = share.TableFullRetryAfterMs;
        share.Reset();
        if (_shareBatches.Count < MaxPooledDecisions)
        {
            _shareBatches.Enqueue(share);
        }
    }

    private ValueTask<long> ReconcileFallback(RateLimitRule rule, PartitionKey partition, long deltaMilli, long nowMs, CancellationToken cancellationToken, RedisConnectionException? error)
    {
        // Reconciliation happens after the response: even fail-closed it is booked locally rather than lost.
        _ = error;
        if (_redis.State != RedisConnectionState.NotConfigured)
        {
            _metrics?.RedisFallback(Concern);
        }

        return _local.ReconcileAsync(_presence is { } presence ? presence.Share(rule) : rule, partition, deltaMilli, nowMs, cancellationToken);
    }

    private PendingDecision RentDecision()
    {
        if (_pool.TryDequeue(out var decision))
        {
            Interlocked.Decrement(ref _pooled);
            return decision;
        }

        return new PendingDecision(this);
    }

    private void ReturnDecision(PendingDecision decision)
    {
        if (Interlocked.Increment(ref _pooled) <= MaxPooledDecisions)
        {
            _pool.Enqueue(decision);
        }
        else
        {
            Interlocked.Decrement(ref _pooled);
        }
    }
}
