using AiEdge.Middleware.Caching;
using AiEdge.Middleware.Internal;
using StackExchange.Redis;

namespace AiEdge.Middleware.Redis.Internal;

/// <summary>
/// The prediction cache's <see cref="IPredictionCacheStore"/> in Redis. An entry is a string under
/// <c>{prefix}cache:{{key}}</c> expiring on Redis's clock; the lock is <c>SET {prefix}lock:{{key}} owner NX PX lease</c>,
/// released by a script only for its owner; waiters poll its existence with a short backoff (5 ms doubling to 50 ms)
/// until it is gone or their timeout passes. The braces make the key a Redis Cluster hash tag, so an entry and its
/// lock share a slot and one script reads the entry and takes the lock, another writes the entry and releases the
/// lock: a shared miss costs two round trips. While Redis is unreachable reads miss, writes are dropped and the
/// replica coalesces on its own (the in-process store).
/// </summary>
internal sealed class RedisPredictionCacheStore(IRedisConnection redis, IPredictionCacheStore local, RedisOptions options, RedisMetrics? metrics) : IPredictionCacheStore
{
    internal static readonly RedisScript ReleaseScript = new("lock-release", """
        if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
        return 0
        """);

    // KEYS[1] entry, KEYS[2] lock; ARGV[1] owner, ARGV[2] lease ms. Returns {data, 0} when there is an entry, else
    // {false, 1} when the lock was taken and {false, 0} when someone else holds it.
    internal static readonly RedisScript GetOrAcquireScript = new("cache-get-or-lock", """
        local v = redis.call('GET', KEYS[1])
        if v then return {v, 0} end
        if redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) then return {false, 1} end
        return {false, 0}
        """);

    // KEYS[1] entry, KEYS[2] lock; ARGV[1] data, ARGV[2] time to live ms, ARGV[3] owner. Writes the entry, then
    // deletes the lock if the owner still holds it.
    internal static readonly RedisScript SetAndReleaseScript = new("cache-set-and-unlock", """
        redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
        if redis.call('GET', KEYS[2]) == ARGV[3] then redis.call('DEL', KEYS[2]) end
        return 1
        """);

    /// <summary>The key of an entry after the Redis key prefix.</summary>
    internal const string EntrySegment = "cache:{";

    private static readonly TimeSpan FirstPoll = TimeSpan.FromMilliseconds(5);
    private static readonly TimeSpan LastPoll = TimeSpan.FromMilliseconds(50);
    private const string Concern = "cache-lock";
    private const string DistributedCacheConcern = "distributed-cache";
    private readonly string _lockPrefix = options.KeyPrefix + "lock:{";
    private readonly string _entryPrefix = options.KeyPrefix + EntrySegment;

    private string LockKey(in PredictionCacheKey key) => string.Concat(_lockPrefix, key.ToString(), "}");

    private string EntryKey(in PredictionCacheKey key) => string.Concat(_entryPrefix, key.ToString(), "}");

    private static string Owner(Guid owner) => owner.ToString("N");

    private static long Milliseconds(TimeSpan span) => Math.Max(1, (long)Math.Ceiling(span.TotalMilliseconds));

    public async ValueTask<byte[]?> GetAsync(PredictionCacheKey key, CancellationToken cancellationToken)
    {
        if (redis.IsConnected)
        {
            try
            {
                var entry = await redis.RunAsync(redis.Database.StringGetAsync(EntryKey(key)), "GET").WaitAsync(cancellationToken).ConfigureAwait(false);
                return (byte[]?)entry;
            }
            catch (RedisConnectionException)
            {
                // A miss, below.
            }
        }

        metrics?.RedisFallback(DistributedCacheConcern);
        return null;
    }

    public async ValueTask SetAsync(PredictionCacheKey key, ReadOnlyMemory<byte> value, TimeSpan timeToLive, CancellationToken cancellationToken)
    {
        if (timeToLive <= TimeSpan.Zero)
        {
            return;
        }

        if (redis.IsConnected)
        {
            try
            {
                await redis.RunAsync(redis.Database.StringSetAsync(EntryKey(key), value, TimeSpan.FromMilliseconds(Milliseconds(timeToLive))), "SET").WaitAsync(cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (RedisConnectionException)
            {
                // The entry is lost.
            }
        }

        metrics?.RedisFallback(DistributedCacheConcern);
    }

    public async ValueTask<bool> TryAcquireAsync(PredictionCacheKey key, Guid owner, TimeSpan lease, CancellationToken cancellationToken)
    {
        if (redis.IsConnected)
        {
            try
            {
                return await redis.RunAsync(redis.Database.StringSetAsync(LockKey(key), Owner(owner), lease, When.NotExists), "SET").WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (RedisConnectionException)
            {
                // Coalesce locally below.
            }
        }

        FallingBack();
        return await local.TryAcquireAsync(key, owner, lease, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<PredictionCacheLookup> GetOrAcquireAsync(PredictionCacheKey key, Guid owner, TimeSpan lease, CancellationToken cancellationToken)
    {
        if (redis.IsConnected)
        {
            try
            {
                var reply = await redis.EvaluateAsync(GetOrAcquireScript, [EntryKey(key), LockKey(key)], [Owner(owner), Milliseconds(lease)]).WaitAsync(cancellationToken).ConfigureAwait(false);
                if (reply is { Resp2Type: ResultType.Array, Length: 2 } && reply[1].Resp2Type == ResultType.Integer)
                {
                    var entry = reply[0];
                    return new PredictionCacheLookup(entry.Resp2Type == ResultType.BulkString ? (byte[]?)entry : null, (long)reply[1] == 1);
                }
            }
            catch (RedisConnectionException)
            {
                // Read nothing and coalesce locally below, as a failed read and TryAcquireAsync do.
            }
        }

        metrics?.RedisFallback(DistributedCacheConcern);
        FallingBack();
        return new PredictionCacheLookup(null, await local.TryAcquireAsync(key, owner, lease, cancellationToken).ConfigureAwait(false));
    }

    public async ValueTask SetAndReleaseAsync(PredictionCacheKey key, ReadOnlyMemory<byte> value, TimeSpan timeToLive, Guid owner, CancellationToken cancellationToken)
    {
        if (timeToLive <= TimeSpan.Zero)
        {
            await ReleaseAsync(key, owner, cancellationToken).ConfigureAwait(false);
            return;
        }

        // The local lock may hold it too if Redis failed while it was taken; releasing both is harmless.
        await local.ReleaseAsync(key, owner, CancellationToken.None).ConfigureAwait(false);
        if (redis.IsConnected)
        {
            try
            {
                await redis.EvaluateAsync(SetAndReleaseScript, [EntryKey(key), LockKey(key)], [value, Milliseconds(timeToLive), Owner(owner)]).WaitAsync(cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (RedisConnectionException)
            {
                // The entry is lost; the lease ends the lock.
            }
        }

        metrics?.RedisFallback(DistributedCacheConcern);
    }

    public async ValueTask ReleaseAsync(PredictionCacheKey key, Guid owner, CancellationToken cancellationToken)
    {
        // The local lock may hold it too if Redis failed while it was taken; releasing both is harmless.
        await local.ReleaseAsync(key, owner, cancellationToken).ConfigureAwait(false);
        if (redis.IsConnected)
        {
            try
            {
                await redis.EvaluateAsync(ReleaseScript, [LockKey(key)], [Owner(owner)]).WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (RedisConnectionException)
            {
                // The lease ends it.
            }
        }
    }

    public async ValueTask<bool> WaitAsync(PredictionCacheKey key, TimeSpan timeout, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (!redis.IsConnected)
        {
            FallingBack();
            return await local.WaitAsync(key, timeout, cancellationToken).ConfigureAwait(false);
        }

        var redisKey = LockKey(key);
        var started = TimeProvider.System.GetTimestamp();
        var pause = FirstPoll;
        while (true)
        {
            try
            {
                if (!await redis.RunAsync(redis.Database.KeyExistsAsync(redisKey), "EXISTS").WaitAsync(cancellationToken).ConfigureAwait(false))
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
