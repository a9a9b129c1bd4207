using System.Collections.Concurrent;
using AiEdge.Middleware.RateLimiting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace AiEdge.Middleware.Redis.Internal;

/// <summary>
/// How many replicas share the limits, learned through Redis while it is up, so that a replica deciding locally while
/// Redis is unreachable enforces only its share of each shared limit (<see cref="RateLimitRule.Share"/>).
/// </summary>
/// <remarks>
/// Every <see cref="RedisOptions.ReplicaHeartbeatInterval"/> (on the app's <see cref="TimeProvider"/>) the replica
/// records itself in a sorted set <c>{prefix}{rl}:replicas</c>, scored by Redis's own clock (<c>TIME</c>, so replicas'
/// clocks need not agree), drops the members not seen for three intervals and reads how many remain, in one script
/// call. The key carries the rate-limit hash tag, so it lives in the rate-limit slot. The count used is the largest of
/// the last three beats: a replica that joined counts at once, one that left (or a Redis that restarted empty and has
/// heard from only some replicas yet) stops counting only after three beats. A replica that stops removes itself.
/// While Redis is unreachable nothing is learned and the last count stays; a replica that has never reached Redis
/// counts 1 (its full limit). Scaled rules are built once per rule and count and reused, since the local store keys
/// its buckets by rule.
/// </remarks>
internal sealed partial class RedisReplicaPresence : IHostedService, IDisposable
{
    private const int BeatsRemembered = 3;

    // KEYS[1]: the set. ARGV[1]: this replica's id; ARGV[2]: how long (ms) a member counts after its last beat.
    // Returns the number of replicas seen within that time, this one included.
    internal static readonly RedisScript BeatScript = new("replica-presence", """
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        local window = tonumber(ARGV[2])
        redis.call('ZADD', KEYS[1], now, ARGV[1])
        redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. (now - window))
        redis.call('PEXPIRE', KEYS[1], window)
        return redis.call('ZCARD', KEYS[1])
        """);

    private readonly IRedisConnection _redis;
    private readonly bool _rateLimiting;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly TimeSpan _interval;
    private readonly RedisKey[] _keys;
    private readonly RedisValue[] _arguments;
    private readonly int[] _beats = new int[BeatsRemembered];
    private readonly Lock _lock = new();
    private ShareTable _table = new(1);
    private ITimer? _timer;
    private int _beatCount;
    private int _beating;

    public RedisReplicaPresence(IRedisConnection redis, IOptions<RedisOptions> options, TimeProvider time, IServiceProviderIsService services, ILogger<RedisReplicaPresence> logger)
    {
        // Only an app that rate-limits needs the count (AddRateLimiting registers the in-memory store as itself).
        _rateLimiting = services.IsService(typeof(InMemoryRateLimitStore));
        _redis = redis;
        _time = time;
        _logger = logger;
        _interval = options.Value.ReplicaHeartbeatInterval;
        _keys = [options.Value.KeyPrefix + RedisRateLimitStore.HashTag + ":replicas"];
        _arguments = [Guid.NewGuid().ToString("n"), (long)(_interval.TotalMilliseconds * BeatsRemembered)];
    }

    /// <summary>Gets whether replicas learn their count: a heartbeat interval is set, Redis is configured and the app rate-limits.</summary>
    public bool Enabled => _interval > TimeSpan.Zero && _rateLimiting && _redis.State != RedisConnectionState.NotConfigured;

    /// <summary>Gets how many replicas share the limits, as last learned (1 until learned).</summary>
    public int Replicas => Volatile.Read(ref _table).Replicas;

    /// <summary>Gets the number of beats that reached Redis (tests).</summary>
    internal int BeatCount => Volatile.Read(ref _beatCount);

    /// <summary>Returns this replica's share of <paramref name="rule"/> (the rule itself while it counts alone).</summary>
    public RateLimitRule Share(RateLimitRule rule)
    {
        var table = Volatile.Read(ref _table);
        return table.Replicas == 1 ? rule : table.Rules.GetOrAdd(rule, static (shared, replicas) => shared.Share(replicas), table.Replicas);
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!Enabled)
        {
            return;
        }

        // The connection starter ran before (it is registered first): beat once now, so a replica knows its count
        // from its first request on, then on the timer.
        await BeatAsync().ConfigureAwait(false);
        _timer = _time.CreateTimer(static state => _ = ((RedisReplicaPresence)state!).BeatAsync(), this, _interval, _interval);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _timer?.Dispose();
        _timer = null;
        if (!Enabled || !_redis.IsConnected)
        {
            return;
        }

        try
        {
            // Leaves at once, so the others count it no longer from their next beat.
            await _redis.RunAsync(_redis.Database.SortedSetRemoveAsync(_keys[0], _arguments[0]), "ZREM").ConfigureAwait(false);
        }
        catch (RedisConnectionException)
        {
            // Its entry ages out after three intervals instead.
        }
    }

    public void Dispose() => _timer?.Dispose();

    /// <summary>Records this replica and learns the count; skipped while Redis is down or a beat is on its way. Never throws.</summary>
    internal async Task BeatAsync()
    {
        if (!_redis.IsConnected || Interlocked.Exchange(ref _beating, 1) == 1)
        {
            return;
        }

        try
        {
            var reply = await _redis.EvaluateAsync(BeatScript, _keys, _arguments).ConfigureAwait(false);
            if (reply.Resp2Type == ResultType.Integer)
            {
                Learn((int)Math.Max((long)reply, 1));
            }
        }
        catch (RedisConnectionException)
        {
            // Logged by the connection; the last count stays.
        }
        finally
        {
            Volatile.Write(ref _beating, 0);
        }
    }

    private void Learn(int seen)
    {
        int replicas;
        int previous;
        lock (_lock)
        {
            _beats[_beatCount % BeatsRemembered] = seen;
            _beatCount++;
            replicas = 1;
            for (var i = 0; i < Math.Min(_beatCount, BeatsRemembered); i++)
            {
                replicas = Math.Max(replicas, _beats[i]);
            }

            previous = _table.Replicas;
            if (replicas != previous)
            {
                Volatile.Write(ref _table, new ShareTable(replicas));
            }
        }

        if (replicas != previous)
        {
            Log.ReplicasChanged(_logger, replicas, previous);
        }
    }

    /// <summary>One replica count and the shares of the rules built for it so far.</summary>
    private sealed class ShareTable(int replicas)
    {
        public int Replicas { get; } = replicas;

        public ConcurrentDictionary<RateLimitRule, RateLimitRule> Rules { get; } = new(ReferenceEqualityComparer.Instance);
    }

    private static partial class Log
    {
        [LoggerMessage(1806, LogLevel.Information, "{Replicas} replicas share the limits through Redis (was {Previous}); while Redis is unreachable each enforces its share of every shared rate limit.", EventName = "RedisReplicasChanged")]
        public static partial void ReplicasChanged(ILogger logger, int replicas, int previous);
    }
}
