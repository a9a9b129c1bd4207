using AiEdge.Middleware.Internal;

namespace AiEdge.Middleware.Redis.Internal;

/// <summary>
/// Cross-replica request coalescing: <c>SET {prefix}lock:{{key}} owner NX PX lease</c> takes the lock, a script
/// deletes it only for its owner, and waiters poll its existence with a short backoff (5 ms doubling to 50 ms) until
/// it is gone or their timeout passes. While Redis is unreachable the replica coalesces on its own
/// (<see cref="InMemoryCacheLock"/>).
/// </summary>
internal sealed class RedisCacheLock(IRedisConnection redis, ICacheLock local, RedisOptions options, AiEdgeMetrics? metrics) : ICacheLock
{
    internal static readonly RedisScript ReleaseScript = new("lock-release", """
        if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
        return 0
        """);

    private static readonly TimeSpan FirstPoll = TimeSpan.FromMilliseconds(5);
    private static readonly TimeSpan LastPoll = TimeSpan.FromMilliseconds(50);
    private const string Concern = "cache-lock";
    private readonly string _prefix = options.KeyPrefix + "lock:{";

    private string Key(string key) => string.Concat(_prefix, key, "}");

    public async ValueTask<bool> TryAcquireAsync(string key, string owner, TimeSpan lease, CancellationToken cancellationToken)
    {
        if (redis.IsConnected)
        {
            try
            {
                var reply = await redis.ExecuteAsync("SET", Key(key), owner, "NX", "PX", Math.Max(1, (long)Math.Ceiling(lease.TotalMilliseconds))).WaitAsync(cancellationToken).ConfigureAwait(false);
                if (!reply.IsError)
                {
                    return !reply.IsNull;
                }
            }
            catch (RedisConnectionException)
            {
                // Coalesce locally below.
            }
        }

        FallingBack();
        return await local.TryAcquireAsync(key, owner, lease, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask ReleaseAsync(string key, string owner, CancellationToken cancellationToken)
    {
        // The local lock may hold it too if Redis failed while it was taken; releasing both is harmless.
        await local.ReleaseAsync(key, owner, cancellationToken).ConfigureAwait(false);
        if (redis.IsConnected)
        {
            try
            {
                await redis.EvaluateAsync(ReleaseScript, 1, [Key(key), owner]).WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (RedisConnectionException)
            {
                // The lease ends it.
            }
        }
    }

    public async ValueTask<bool> WaitAsync(string key, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (!redis.IsConnected)
        {
            FallingBack();
            return await local.WaitAsync(key, timeout, cancellationToken).ConfigureAwait(false);
        }

        var redisKey = Key(key);
        var started = TimeProvider.System.GetTimestamp();
        var pause = FirstPoll;
        while (true)
        {
            try
            {
                var reply = await redis.ExecuteAsync("EXISTS", redisKey).WaitAsync(cancellationToken).ConfigureAwait(false);
                if (reply.Type == RespType.Integer && reply.Integer == 0)
                {
                    return true;
                }
            }
            catch (RedisConnectionException)
            {
                // Redis went away: the caller re-checks and runs the request itself.
                return true;
            }

            var remaining = timeout - TimeProvider.System.GetElapsedTime(started);
            if (remaining <= TimeSpan.Zero)
            {
                return false;
            }

            await Task.Delay(pause < remaining ? pause : remaining, TimeProvider.System, cancellationToken).ConfigureAwait(false);
            pause = pause * 2 < LastPoll ? pause * 2 : LastPoll;
        }
    }

    private void FallingBack()
    {
        if (redis.State != RedisConnectionState.NotConfigured)
        {
            metrics?.RedisFallback(Concern);
        }
    }
}
