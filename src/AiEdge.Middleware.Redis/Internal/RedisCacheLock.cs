using AiEdge.Middleware.Caching.Internal;
using AiEdge.Middleware.Internal;
using Microsoft.Extensions.Caching.Distributed;

namespace AiEdge.Middleware.Redis.Internal;

/// <summary>
/// Cross-replica request coalescing: <c>SET {prefix}lock:{{key}} owner NX PX lease</c> takes the lock, a script
/// deletes it only for its owner, and waiters poll its existence with a short backoff (5 ms doubling to 50 ms) until
/// it is gone or their timeout passes. While Redis is unreachable the replica coalesces on its own
/// (<see cref="InMemoryCacheLock"/>).
/// Beside a <see cref="RedisDistributedCache"/> on the same connection it also reads an entry and takes the lock in one
/// script, and writes an entry and releases the lock in one (<see cref="ISharedCacheLock"/>): a shared miss then costs
/// two round trips for the cache instead of four.
/// </summary>
internal sealed class RedisCacheLock(IRedisConnection redis, ICacheLock local, RedisOptions options, RedisMetrics? metrics) : ISharedCacheLock
{
    internal static readonly RedisScript ReleaseScript = new("lock-release", """
        if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
        return 0
        """);

    // KEYS[1] entry (as RedisDistributedCache keeps it), KEYS[2] lock; ARGV[1] owner, ARGV[2] lease ms. Returns
    // {data, 0} when there is an entry (sliding its expiry as RedisDistributedCache's read does), else {false, 1}
    // when the lock was taken and {false, 0} when someone else holds it.
    internal static readonly RedisScript GetOrAcquireScript = new("cache-get-or-lock", RedisDistributedCache.ReadEntryLua + """
        if v[1] then return {v[1], 0} end
        if redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) then return {false, 1} end
        return {false, 0}
        """);

    // KEYS[1] entry, KEYS[2] lock; ARGV[1..3] as RedisDistributedCache.WriteEntryLua, ARGV[4] owner. Writes the entry
    // exactly as RedisDistributedCache does, then deletes the lock if the owner still holds it.
    internal static readonly RedisScript SetAndReleaseScript = new("cache-set-and-unlock", RedisDistributedCache.WriteEntryLua + """
        if redis.call('GET', KEYS[2]) == ARGV[4] then redis.call('DEL', KEYS[2]) end
        return 1
        """);

    private static readonly TimeSpan FirstPoll = TimeSpan.FromMilliseconds(5);
    private static readonly TimeSpan LastPoll = TimeSpan.FromMilliseconds(50);
    private const string Concern = "cache-lock";
    private const string DistributedCacheConcern = "distributed-cache";
    private readonly string _prefix = options.KeyPrefix + "lock:{";
    private readonly string _entryPrefix = options.KeyPrefix + RedisDistributedCache.KeySegment;

    private string Key(string key) => string.Concat(_prefix, key, "}");

    private static long LeaseMs(TimeSpan lease) => Math.Max(1, (long)Math.Ceiling(lease.TotalMilliseconds));

    public async ValueTask<bool> TryAcquireAsync(string key, string owner, TimeSpan lease, CancellationToken cancellationToken)
    {
        if (redis.IsConnected)
        {
            try
            {
                var reply = await redis.ExecuteAsync("SET", Key(key), owner, "NX", "PX", LeaseMs(lease)).WaitAsync(cancellationToken).ConfigureAwait(false);
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

    public bool Shares(IDistributedCache cache) => cache is RedisDistributedCache shared && ReferenceEquals(shared.Connection, redis);

    public async ValueTask<SharedCacheLookup> GetOrAcquireAsync(string entryKey, string lockKey, string owner, TimeSpan lease, CancellationToken cancellationToken)
    {
        if (redis.IsConnected)
        {
            try
            {
                var reply = await redis.EvaluateAsync(GetOrAcquireScript, 2, [_entryPrefix + entryKey, Key(lockKey), owner, LeaseMs(lease)]).WaitAsync(cancellationToken).ConfigureAwait(false);
                if (reply is { Type: RespType.Array, Items: [var entry, { Type: RespType.Integer } acquired] })
                {
                    return new SharedCacheLookup(entry.Type == RespType.BulkString ? entry.Bytes : null, acquired.Integer == 1);
                }
            }
            catch (RedisConnectionException)
            {
                // Read nothing and coalesce locally below, as a failed read and TryAcquireAsync do.
            }
        }

        metrics?.RedisFallback(DistributedCacheConcern);
        FallingBack();
        return new SharedCacheLookup(null, await local.TryAcquireAsync(lockKey, owner, lease, cancellationToken).ConfigureAwait(false));
    }

    public async ValueTask SetAndReleaseAsync(string entryKey, byte[] value, TimeSpan timeToLive, string lockKey, string owner)
    {
        // The local lock may hold it too if Redis failed while it was taken; releasing both is harmless.
        await local.ReleaseAsync(lockKey, owner, CancellationToken.None).ConfigureAwait(false);
        if (redis.IsConnected)
        {
            try
            {
                var reply = await redis.EvaluateAsync(SetAndReleaseScript, 2, [_entryPrefix + entryKey, Key(lockKey), value, 0L, Math.Max(1, (long)timeToLive.TotalMilliseconds), owner]).ConfigureAwait(false);
                if (!reply.IsError)
                {
                    return;
                }
            }
            catch (RedisConnectionException)
            {
                // The entry is lost; the lease ends the lock.
            }
        }

        metrics?.RedisFallback(DistributedCacheConcern);
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
