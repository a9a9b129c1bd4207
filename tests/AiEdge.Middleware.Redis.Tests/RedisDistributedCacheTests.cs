using AiEdge.Middleware.Redis.Internal;
using AiEdge.Middleware.Testing;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Options;

namespace AiEdge.Middleware.Redis.Tests;

public sealed class RedisDistributedCacheTests(RedisServerFixture redis) : IClassFixture<RedisServerFixture>
{
    private static readonly TimeSpan Timeout = RedisTestConnections.Timeout;

    private static RedisDistributedCache Cache(IRedisConnection connection)
        => new(connection, Options.Create(new RedisOptions()), TimeProvider.System);

    [Fact]
    public async Task SetAsync_ThroughOneConnection_IsReadThroughAnother()
    {
        await using var a = await RedisTestConnections.ConnectAsync(redis.Configuration);
        await using var b = await RedisTestConnections.ConnectAsync(redis.Configuration);
        var key = Guid.NewGuid().ToString("n");
        var value = new byte[] { 1, 2, 3, 0, 255 };

        await Cache(a).SetAsync(key, value, new DistributedCacheEntryOptions { AbsoluteExpirationRelativeToNow = TimeSpan.FromMinutes(1) }).WaitAsync(Timeout);

        Assert.Equal(value, await Cache(b).GetAsync(key).WaitAsync(Timeout));
        Assert.Null(await Cache(b).GetAsync("missing-" + key).WaitAsync(Timeout));
    }

    [Fact]
    public async Task GetAsync_SlidingEntry_ExtendsItsLifetimeButNeverPastTheAbsoluteExpiry()
    {
        await using var connection = await RedisTestConnections.ConnectAsync(redis.Configuration);
        var cache = Cache(connection);
        var sliding = Guid.NewGuid().ToString("n");
        var capped = Guid.NewGuid().ToString("n");

        await cache.SetAsync(sliding, [1], new DistributedCacheEntryOptions { SlidingExpiration = TimeSpan.FromSeconds(100) });
        await connection.ExecuteAsync("PEXPIRE", "aiedge:dc:" + sliding, 5_000).WaitAsync(Timeout);
        await cache.SetAsync(capped, [1], new DistributedCacheEntryOptions { SlidingExpiration = TimeSpan.FromSeconds(100), AbsoluteExpirationRelativeToNow = TimeSpan.FromSeconds(10) });

        await cache.GetAsync(sliding).WaitAsync(Timeout);
        await cache.RefreshAsync(capped).WaitAsync(Timeout);
        var slidingTtl = (await connection.ExecuteAsync("PTTL", "aiedge:dc:" + sliding).WaitAsync(Timeout)).Integer;
        var cappedTtl = (await connection.ExecuteAsync("PTTL", "aiedge:dc:" + capped).WaitAsync(Timeout)).Integer;

        Assert.InRange(slidingTtl, 90_000, 100_000);
        Assert.InRange(cappedTtl, 1, 10_000);
    }

    [Fact]
    public async Task RemoveAsync_DeletesTheEntry()
    {
        await using var connection = await RedisTestConnections.ConnectAsync(redis.Configuration);
        var cache = Cache(connection);
        var key = Guid.NewGuid().ToString("n");
        await cache.SetAsync(key, [9], new DistributedCacheEntryOptions());

        await cache.RemoveAsync(key).WaitAsync(Timeout);

        Assert.Null(await cache.GetAsync(key).WaitAsync(Timeout));
    }

    [Fact]
    public async Task GetAndSet_RedisUnreachable_MissAndDropWithoutThrowing()
    {
        await using var connection = RedisTestConnections.Create("127.0.0.1:1", o => o.ConnectTimeout = TimeSpan.FromMilliseconds(200));
        var cache = Cache(connection);

        await cache.SetAsync("k", [1], new DistributedCacheEntryOptions()).WaitAsync(Timeout);

        Assert.Null(await cache.GetAsync("k").WaitAsync(Timeout));
    }

    [Fact]
    public async Task Cache_NotConfigured_KeepsEntriesInMemory()
    {
        await using var connection = RedisTestConnections.Create(string.Empty);
        var cache = Cache(connection);

        await cache.SetAsync("k", [7], new DistributedCacheEntryOptions());

        Assert.Equal([7], await cache.GetAsync("k"));
    }
}
