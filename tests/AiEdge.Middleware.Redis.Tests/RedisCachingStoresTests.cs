using System.Security.Cryptography;
using AiEdge.Middleware.Caching.Internal;
using AiEdge.Middleware.Internal;
using AiEdge.Middleware.Redis.Internal;
using AiEdge.Middleware.Testing;
using Microsoft.Extensions.Primitives;
using Microsoft.Extensions.Time.Testing;

namespace AiEdge.Middleware.Redis.Tests;

public sealed class RedisCachingStoresTests(RedisServerFixture redis) : IClassFixture<RedisServerFixture>
{
    private static readonly TimeSpan Timeout = RedisTestConnections.Timeout;

    private static string NewKey() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));

    [Fact]
    public async Task CacheLock_AcrossReplicas_OneHolderAndWaitersWakeOnRelease()
    {
        await using var a = await RedisTestConnections.ConnectAsync(redis.Configuration);
        await using var b = await RedisTestConnections.ConnectAsync(redis.Configuration);
        var time = new FakeTimeProvider(TestClock.Start);
        var lockA = new RedisCacheLock(a, new InMemoryCacheLock(time), new RedisOptions(), null);
        var lockB = new RedisCacheLock(b, new InMemoryCacheLock(time), new RedisOptions(), null);
        var key = NewKey();

        var acquired = await Task.WhenAll(Enumerable.Range(0, 100).Select(i => Task.Run(async () =>
            await (i % 2 == 0 ? lockA : lockB).TryAcquireAsync(key, "owner-" + i, TimeSpan.FromSeconds(30), default)))).WaitAsync(Timeout);
        var owner = "owner-" + Array.IndexOf(acquired, true);
        var waiting = lockB.WaitAsync(key, TimeSpan.FromSeconds(20), default).AsTask();
        var shortWait = await lockA.WaitAsync(key, TimeSpan.FromMilliseconds(30), default);
        await lockB.ReleaseAsync(key, "not-the-owner", default);
        if (waiting.IsCompleted)
        {
            Assert.Fail("The waiter returned before the release: " + await waiting + " acquired " + string.Join(",", acquired));
        }
        await lockA.ReleaseAsync(key, owner, default);

        Assert.Single(acquired, static x => x);
        Assert.False(shortWait);
        Assert.True(await waiting.WaitAsync(Timeout));
        Assert.True(await lockB.TryAcquireAsync(key, "next", TimeSpan.FromSeconds(1), default));
    }

    [Fact]
    public async Task CacheLock_Lease_ExpiresACrashedHoldersLock()
    {
        await using var a = await RedisTestConnections.ConnectAsync(redis.Configuration);
        var cacheLock = new RedisCacheLock(a, new InMemoryCacheLock(new FakeTimeProvider(TestClock.Start)), new RedisOptions(), null);
        var key = NewKey();

        Assert.True(await cacheLock.TryAcquireAsync(key, "crashed", TimeSpan.FromMilliseconds(50), default));
        var ttl = await a.ExecuteAsync("PTTL", "aiedge:lock:{" + key + "}").WaitAsync(Timeout);

        Assert.InRange(ttl.Integer, 1, 50);
        Assert.True(await cacheLock.WaitAsync(key, TimeSpan.FromSeconds(10), default).AsTask().WaitAsync(Timeout));
    }

    [Fact]
    public async Task SharedCacheLock_GetOrAcquire_ReadsAnEntryOrTakesTheLockInOneCall()
    {
        await using var a = await RedisTestConnections.ConnectAsync(redis.Configuration);
        var time = new FakeTimeProvider(TestClock.Start);
        var cache = new RedisDistributedCache(a, Microsoft.Extensions.Options.Options.Create(new RedisOptions()), TimeProvider.System);
        var cacheLock = new RedisCacheLock(a, new InMemoryCacheLock(time), new RedisOptions(), null);
        var stored = NewKey();
        var missing = NewKey();
        await cache.SetAsync("entry:" + stored, [1, 2, 3], new() { AbsoluteExpirationRelativeToNow = TimeSpan.FromMinutes(1) });

        var found = await cacheLock.GetOrAcquireAsync("entry:" + stored, stored, "a", TimeSpan.FromSeconds(30), default);
        var taken = await cacheLock.GetOrAcquireAsync("entry:" + missing, missing, "a", TimeSpan.FromSeconds(30), default);
        var heldElsewhere = await cacheLock.GetOrAcquireAsync("entry:" + missing, missing, "b", TimeSpan.FromSeconds(30), default);
        var storedLock = await a.ExecuteAsync("EXISTS", "aiedge:lock:{" + stored + "}").WaitAsync(Timeout);
        var missingLock = await a.ExecuteAsync("GET", "aiedge:lock:{" + missing + "}").WaitAsync(Timeout);

        Assert.True(cacheLock.Shares(cache));
        Assert.Equal(new byte[] { 1, 2, 3 }, found.Entry);
        Assert.False(found.Acquired);
        Assert.Equal(0, storedLock.Integer);
        Assert.Null(taken.Entry);
        Assert.True(taken.Acquired);
        Assert.Equal("a", missingLock.ToString());
        Assert.Null(heldElsewhere.Entry);
        Assert.False(heldElsewhere.Acquired);
    }

    [Fact]
    public async Task SharedCacheLock_SetAndRelease_WritesWhatTheCacheReadsAndReleasesOnlyItsOwnersLock()
    {
        await using var a = await RedisTestConnections.ConnectAsync(redis.Configuration);
        var cache = new RedisDistributedCache(a, Microsoft.Extensions.Options.Options.Create(new RedisOptions()), TimeProvider.System);
        var cacheLock = new RedisCacheLock(a, new InMemoryCacheLock(new FakeTimeProvider(TestClock.Start)), new RedisOptions(), null);
        var mine = NewKey();
        var theirs = NewKey();
        Assert.True(await cacheLock.TryAcquireAsync(mine, "me", TimeSpan.FromSeconds(30), default));
        Assert.True(await cacheLock.TryAcquireAsync(theirs, "them", TimeSpan.FromSeconds(30), default));

        await cacheLock.SetAndReleaseAsync("entry:" + mine, [4, 5], TimeSpan.FromSeconds(20), mine, "me");
        await cacheLock.SetAndReleaseAsync("entry:" + theirs, [6], TimeSpan.FromSeconds(20), theirs, "me");

        var ttl = await a.ExecuteAsync("PTTL", "aiedge:dc:entry:" + mine).WaitAsync(Timeout);
        Assert.Equal(new byte[] { 4, 5 }, await cache.GetAsync("entry:" + mine));
        Assert.Equal(new byte[] { 6 }, await cache.GetAsync("entry:" + theirs));
        Assert.InRange(ttl.Integer, 1, 20_000);
        Assert.True(await cacheLock.TryAcquireAsync(mine, "next", TimeSpan.FromSeconds(1), default));
        Assert.False(await cacheLock.TryAcquireAsync(theirs, "next", TimeSpan.FromSeconds(1), default));
    }

    [Fact]
    public async Task SharedCacheLock_RedisUnreachable_ReadsNothingAndCoalescesLocally()
    {
        await using var down = RedisTestConnections.Create("127.0.0.1:1");
        var cacheLock = new RedisCacheLock(down, new InMemoryCacheLock(new FakeTimeProvider(TestClock.Start)), new RedisOptions(), null);
        var key = NewKey();

        var first = await cacheLock.GetOrAcquireAsync("entry:" + key, key, "a", TimeSpan.FromSeconds(30), default);
        var second = await cacheLock.GetOrAcquireAsync("entry:" + key, key, "b", TimeSpan.FromSeconds(30), default);
        await cacheLock.SetAndReleaseAsync("entry:" + key, [1], TimeSpan.FromSeconds(5), key, "a");
        var afterRelease = await cacheLock.GetOrAcquireAsync("entry:" + key, key, "b", TimeSpan.FromSeconds(30), default);

        Assert.Equal(new SharedCacheLookup(null, true), first);
        Assert.Equal(new SharedCacheLookup(null, false), second);
        Assert.Equal(new SharedCacheLookup(null, true), afterRelease);
    }
}
