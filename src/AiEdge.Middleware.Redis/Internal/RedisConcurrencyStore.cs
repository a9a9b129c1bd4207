using System.Collections.Concurrent;
using AiEdge.Middleware.Concurrency;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace AiEdge.Middleware.Redis.Internal;

/// <summary>
/// Concurrency slots shared by every replica. A key's live leases are a sorted set <c>{prefix}conc:{{key}}</c> of
/// lease ids scored by their expiry in milliseconds on the Redis server's clock (<c>TIME</c>, so replicas' clocks
/// never matter), with the id counter <c>{prefix}conc:{{key}}:n</c> in the same hash slot. Each method is one script
/// that first drops the expired members, so a replica that died holding slots frees them within one lease duration.
/// </summary>
/// <remarks>
/// <para>Wake-ups: a release that freed a slot publishes <c>{instance}:{key}</c> on <c>{prefix}conc:released</c>;
/// every other replica subscribed hands the key to <see cref="ConcurrencySlotSignal"/>, whose queue (if requests wait
/// there) asks again. A refusal also schedules one wake-up of the key, at the soonest expiry of its live leases and at
/// most <see cref="PollInterval"/> away, so a slot freed by an expiry or whose message was lost (pub/sub delivers at
/// most once) reaches the waiters within a second. Only keys with a refusal pending are polled.</para>
/// <para>Failures: while Redis is unreachable (or slower than the command timeout) the replica decides with its
/// in-memory store, the limit counted per replica (fail-open), or refuses every slot (fail-closed). Slots granted
/// locally carry negative ids and are renewed and released locally, so none is ever lost to the other store; a slot
/// granted by Redis whose release cannot reach it ends at its expiry (the release itself does not fail).</para>
/// </remarks>
internal sealed partial class RedisConcurrencyStore : IConcurrencyStore, IDisposable
{
    /// <summary>The longest a refused key waits for its next wake-up.</summary>
    public static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(1);

    // KEYS: leases, counter. ARGV: limit, lease ms. Returns {1, live, id} or {0, live, ms until the soonest expiry}.
    internal static readonly RedisScript AcquireScript = new("concurrency-acquire", """
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
        local live = redis.call('ZCARD', KEYS[1])
        if live >= tonumber(ARGV[1]) then
          local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
          return {0, live, tonumber(first[2]) - now}
        end
        local id = redis.call('INCR', KEYS[2])
        local lease = tonumber(ARGV[2])
        redis.call('ZADD', KEYS[1], now + lease, id)
        if redis.call('PTTL', KEYS[1]) < lease then redis.call('PEXPIRE', KEYS[1], lease) end
        if redis.call('PTTL', KEYS[2]) < lease then redis.call('PEXPIRE', KEYS[2], lease) end
        return {1, live + 1, id}
        """);

    // KEYS: leases, counter. ARGV: id, lease ms. Returns 1 when the lease was live and is extended.
    internal static readonly RedisScript RenewScript = new("concurrency-renew", """
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
        if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 0 end
        local lease = tonumber(ARGV[2])
        redis.call('ZADD', KEYS[1], 'XX', now + lease, ARGV[1])
        if redis.call('PTTL', KEYS[1]) < lease then redis.call('PEXPIRE', KEYS[1], lease) end
        if redis.call('PTTL', KEYS[2]) < lease then redis.call('PEXPIRE', KEYS[2], lease) end
        return 1
        """);

    // KEYS: leases. ARGV: id, channel, message. Returns 1 when a live lease ended (and the release was published).
    internal static readonly RedisScript ReleaseScript = new("concurrency-release", """
        if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then return 0 end
        redis.call('PUBLISH', ARGV[2], ARGV[3])
        return 1
        """);

    // KEYS: leases. Returns the live leases.
    internal static readonly RedisScript CountScript = new("concurrency-count", """
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        return redis.call('ZCOUNT', KEYS[1], '(' .. now, '+inf')
        """);

    private const string Concern = "concurrency";
    private readonly IRedisConnection _redis;
    private readonly IConcurrencyStore _local;
    private readonly ConcurrencySlotSignal? _signal;
    private readonly RedisMetrics? _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly bool _failClosed;
    private readonly string _prefix;
    private readonly RedisChannel _channel;
    private readonly string _instance = Guid.NewGuid().ToString("N") + ":";
    private readonly ConcurrentDictionary<string, ITimer> _wakeups = new(StringComparer.Ordinal);
    private int _subscribed;
    private bool _disposed;

    /// <param name="redis">The connection.</param>
    /// <param name="local">The store deciding while Redis is unreachable (fail-open).</param>
    /// <param name="options">The Redis options (key prefix, failure mode).</param>
    /// <param name="signal">Where slots freed by other replicas are announced; <see langword="null"/> for no wake-ups.</param>
    /// <param name="metrics">The Redis metrics, if any.</param>
    /// <param name="time">The clock of the wake-up timers: the system clock, as the server's leases run on real time.</param>
    /// <param name="logger">The logger.</param>
    public RedisConcurrencyStore(
        IRedisConnection redis,
        IConcurrencyStore local,
        RedisOptions options,
        ConcurrencySlotSignal? signal,
        RedisMetrics? metrics,
        TimeProvider time,
        ILogger logger)
    {
        _redis = redis;
        _local = local;
        _signal = signal;
        _metrics = metrics;
        _time = time;
        _logger = logger;
        _failClosed = options.FailureMode == RedisFailureMode.FailClosed;
        _prefix = options.KeyPrefix + "conc:{";
        _channel = RedisChannel.Literal(options.KeyPrefix + "conc:released");
    }

    public async ValueTask<ConcurrencyLease> TryAcquireAsync(string key, int limit, TimeSpan leaseDuration, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        cancellationToken.ThrowIfCancellationRequested();
        if (_redis.IsConnected)
        {
            EnsureSubscribed();
            try
            {
                var reply = await _redis.EvaluateAsync(AcquireScript, LeasesAndCounter(key), [limit, Milliseconds(leaseDuration)]).WaitAsync(cancellationToken).ConfigureAwait(false);
                if (reply is { Resp2Type: ResultType.Array, Length: 3 })
                {
                    var live = (int)reply[1];
                    if ((long)reply[0] == 1)
                    {
                        return ConcurrencyLease.Granted((long)reply[2], live);
                    }

                    ScheduleWakeup(key, (long)reply[2]);
                    return ConcurrencyLease.Refused(live);
                }

                throw new RedisConnectionException("Unexpected reply to the concurrency acquire script: " + reply);
            }
            catch (RedisConnectionException ex)
            {
                if (FallingBack(ex))
                {
                    ScheduleWakeup(key, long.MaxValue);
                    return ConcurrencyLease.Refused(limit);
                }
            }
        }
        else if (FallingBack(null))
        {
            ScheduleWakeup(key, long.MaxValue);
            return ConcurrencyLease.Refused(limit);
        }

        var lease = await _local.TryAcquireAsync(key, limit, leaseDuration, cancellationToken).ConfigureAwait(false);
        return lease.Acquired ? ConcurrencyLease.Granted(-lease.Id, lease.InFlight) : lease;
    }

    public async ValueTask<bool> RenewAsync(string key, long leaseId, TimeSpan leaseDuration, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (leaseId < 0)
        {
            return await _local.RenewAsync(key, -leaseId, leaseDuration, cancellationToken).ConfigureAwait(false);
        }

        cancellationToken.ThrowIfCancellationRequested();
        var reply = await _redis.EvaluateAsync(RenewScript, LeasesAndCounter(key), [leaseId, Milliseconds(leaseDuration)]).WaitAsync(cancellationToken).ConfigureAwait(false);
        return reply.Resp2Type == ResultType.Integer
            ? (long)reply == 1
            : throw new RedisConnectionException("Unexpected reply to the concurrency renew script: " + reply);
    }

    public async ValueTask ReleaseAsync(string key, long leaseId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (leaseId < 0)
        {
            await _local.ReleaseAsync(key, -leaseId, cancellationToken).ConfigureAwait(false);
            return;
        }

        if (leaseId == 0)
        {
            return;
        }

        // A release that cannot reach Redis is not an error of the request: the lease ends at its expiry.
        if (!_redis.IsConnected)
        {
            _metrics?.RedisFallback(Concern);
            return;
        }

        try
        {
            await _redis.EvaluateAsync(ReleaseScript, [Leases(key)], [leaseId, _channel.ToString(), _instance + key]).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (RedisConnectionException ex)
        {
            _metrics?.RedisFallback(Concern);
            Log.Failed(_logger, ex);
        }
    }

    public async ValueTask<int> CountAsync(string key, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        cancellationToken.ThrowIfCancellationRequested();
        if (_redis.IsConnected)
        {
            try
            {
                var reply = await _redis.EvaluateAsync(CountScript, [Leases(key)], []).WaitAsync(cancellationToken).ConfigureAwait(false);
                if (reply.Resp2Type == ResultType.Integer)
                {
                    return (int)reply;
                }

                throw new RedisConnectionException("Unexpected reply to the concurrency count script: " + reply);
            }
            catch (RedisConnectionException ex) when (!_failClosed)
            {
                _metrics?.RedisFallback(Concern);
                Log.Failed(_logger, ex);
            }
        }
        else if (_failClosed)
        {
            throw new RedisConnectionException("Redis is not connected.");
        }

        return await _local.CountAsync(key, cancellationToken).ConfigureAwait(false);
    }

    public void Dispose()
    {
        Volatile.Write(ref _disposed, true);
        foreach (var (key, timer) in _wakeups)
        {
            timer.Dispose();
            _wakeups.TryRemove(key, out _);
        }

        try
        {
            if (Volatile.Read(ref _subscribed) == 1 && _redis.Subscriber is { } subscriber)
            {
                subscriber.Unsubscribe(_channel, OnReleased, CommandFlags.FireAndForget);
            }
        }
        catch (ObjectDisposedException)
        {
            // The connection went first; its subscriptions went with it.
        }
    }

    private RedisKey Leases(string key) => string.Concat(_prefix, key, "}");

    // Both in the key's hash slot: the tag is the braced key, the first braces of either name.
    private RedisKey[] LeasesAndCounter(string key) => [string.Concat(_prefix, key, "}"), string.Concat(_prefix, key, "}:n")];

    /// <summary>Redis failed or is down: true to refuse (fail-closed), false to decide locally (fail-open).</summary>
    private bool FallingBack(RedisConnectionException? error)
    {
        if (_failClosed)
        {
            _metrics?.RedisFallback("fail-closed");
            return true;
        }

        _metrics?.RedisFallback(Concern);
        if (error is not null)
        {
            Log.Failed(_logger, error);
        }

        return false;
    }

    /// <summary>Subscribes to the releases of the other replicas, once connected (the client resubscribes after a reconnection).</summary>
    private void EnsureSubscribed()
    {
        if (_signal is null || Volatile.Read(ref _subscribed) != 0 || Interlocked.CompareExchange(ref _subscribed, 1, 0) != 0)
        {
            return;
        }

        _ = SubscribeAsync();
    }

    private async Task SubscribeAsync()
    {
        try
        {
            var subscriber = _redis.Subscriber ?? throw new RedisConnectionException("Redis is not connected.");
            await subscriber.SubscribeAsync(_channel, OnReleased).WaitAsync(PollInterval * 5).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RedisConnectionException or RedisException or TimeoutException)
        {
            // Refused keys are still polled; the next acquire tries to subscribe again.
            Log.SubscribeFailed(_logger, ex);
            Volatile.Write(ref _subscribed, 0);
        }
    }

    private void OnReleased(RedisChannel channel, RedisValue message)
    {
        var text = (string?)message;
        if (text is null || text.StartsWith(_instance, StringComparison.Ordinal) || text.Length <= _instance.Length)
        {
            // This replica's own releases wake its queue directly.
            return;
        }

        _signal!.SlotFreed(text.Substring(_instance.Length));
    }

    /// <summary>A refused key is asked for again when its soonest lease expires, or after at most <see cref="PollInterval"/>.</summary>
    private void ScheduleWakeup(string key, long untilExpiryMs)
    {
        if (_signal is null || Volatile.Read(ref _disposed) || _wakeups.ContainsKey(key))
        {
            return;
        }

        var due = TimeSpan.FromMilliseconds(Math.Clamp(untilExpiryMs, 0, (long)PollInterval.TotalMilliseconds - 1) + 1);
        var wakeup = new Wakeup(this, key);
        if (_wakeups.TryAdd(key, wakeup.Timer = _time.CreateTimer(static state => ((Wakeup)state!).Fire(), wakeup, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan)))
        {
            wakeup.Timer.Change(due, Timeout.InfiniteTimeSpan);
        }
        else
        {
            wakeup.Timer.Dispose();
        }
    }

    private static long Milliseconds(TimeSpan span) => Math.Max(1, (long)Math.Ceiling(span.TotalMilliseconds));

    private sealed class Wakeup(RedisConcurrencyStore store, string key)
    {
        public ITimer? Timer { get; set; }

        public void Fire()
        {
            store._wakeups.TryRemove(new KeyValuePair<string, ITimer>(key, Timer!));
            Timer!.Dispose();
            store._signal!.SlotFreed(key);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1820, LogLevel.Debug, "Redis failed for a concurrency slot ({Message}): the slot was decided by this replica, or its lease is left to expire.", EventName = "RedisConcurrencyFallback")]
        public static partial void Failed(ILogger logger, string message);

        public static void Failed(ILogger logger, Exception exception) => Failed(logger, exception.Message);

        [LoggerMessage(1821, LogLevel.Warning, "Subscribing to the concurrency releases of the other replicas failed; queued requests learn of their slots by polling (at most a second late).", EventName = "RedisConcurrencySubscribeFailed")]
        public static partial void SubscribeFailed(ILogger logger, Exception exception);
    }
}
