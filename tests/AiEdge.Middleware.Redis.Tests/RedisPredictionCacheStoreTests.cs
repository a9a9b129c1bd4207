using System.Security.Cryptography;
using AiEdge.Middleware.Caching;
using AiEdge.Middleware.Conformance;
using AiEdge.Middleware.Redis.Internal;
using AiEdge.Middleware.Testing;
using Microsoft.Extensions.Time.Testing;

namespace AiEdge.Middleware.Redis.Tests;

public sealed class RedisPredictionCacheStoreTests(RedisServerFixture redis) : IClassFixture<RedisServerFixture>
{
    private static readonly TimeSpan Timeout = RedisTestConnections.Timeout;

    private static PredictionCacheKey NewKey() => new(RandomNumberGenerator.GetBytes(32));

    public static TheoryData<string> Checks => new(PredictionCacheStoreConformance.Checks(new() { CreateStore = static () => throw new InvalidOperationException() }).Names());

    /// <summary>The contract kit on a real redis-server: Redis keeps its own clock, so time-to-live, lease and wait checks run on short real durations.</summary>
    [Theory, MemberData(nameof(Checks))]
    public async Task Store_MeetsTheContract(string check)
    {
        await using var connection = await RedisTestConnections.ConnectAsync(redis.Configuration);

        await PredictionCacheStoreConformance.Checks(new() { CreateStore = () => Store(connection) }).Get(check).RunAsync();
    }

    private static RedisPredictionCacheStore Store(IRedisConnection connection)
        => new(connection, new InMemoryPredictionCacheStore(new FakeTimeProvider(TestClock.Start)), new RedisOptions(), null);

    [Fact]
    public async Task Lock_AcrossReplicas_OneHolderAndWaitersWakeOnRelease()
    {
        await using var a = await RedisTestConnections.ConnectAsync(redis.Configuration);
        await using var b = await RedisTestConnections.ConnectAsync(redis.Configuration);
        var storeA = Store(a);
        var storeB = Store(b);
        var key = NewKey();
        var owners = Enumerable.Range(0, 100).Select(static _ => Guid.NewGuid()).ToArray();

        var acquired = await Task.WhenAll(Enumerable.Range(0, 100).Select(i => Task.Run(async () =>
            await (i % 2 == 0 ? storeA : storeB).TryAcquireAsync(key, owners[i], TimeSpan.FromSeconds(30), default)))).WaitAsync(Timeout);
        var owner = owners[Array.IndexOf(acquired, true)];
        var waiting = storeB.WaitAsync(key, TimeSpan.FromSeconds(20), default).AsTask();
        var shortWait = await storeA.WaitAsync(key, TimeSpan.FromMilliseconds(30), default);
        await storeB.ReleaseAsync(key, Guid.NewGuid(), default);
        if (waiting.IsCompleted)
        {
            Assert.Fail("The waiter returned before the release: " + await waiting);
        }
        await storeA.ReleaseAsync(key, owner, default);

        Assert.Single(acquired, static x => x);
        Assert.False(shortWait);
        Assert.True(await waiting.WaitAsync(Timeout));
        Assert.True(await storeB.TryAcquireAsync(key, Guid.NewGuid(), TimeSpan.FromSeconds(1), default));
    }

    [Fact]
    public async Task Lock_Lease_ExpiresACrashedHoldersLock()
    {
        await using var a = await RedisTestConnections.ConnectAsync(redis.Configuration);
        var store = Store(a);
        var key = NewKey();

        Assert.True(await store.TryAcquireAsync(key, Guid.NewGuid(), TimeSpan.FromMilliseconds(50), default));
        var ttl = await a.ExecuteAsync("PTTL", "aiedge:lock:{" + key + "}").WaitAsync(Timeout);

        Assert.InRange(ttl.Integer, 1, 50);
        Assert.True(await store.WaitAsync(key, TimeSpan.FromSeconds(10), default).AsTask().WaitAsync(Timeout));
    }

    [Fact]
    public async Task GetOrAcquire_ReadsAnEntryOrTakesTheLockInOneCall()
    {
        await using var a = await RedisTestConnections.ConnectAsync(redis.Configuration);
        var store = Store(a);
        var stored = NewKey();
        var missing = NewKey();
        var (me, other) = (Guid.NewGuid(), Guid.NewGuid());
        await store.SetAsync(stored, new byte[] { 1, 2, 3 }, TimeSpan.FromMinutes(1), default);

        var found = await store.GetOrAcquireAsync(stored, me, TimeSpan.FromSeconds(30), default);
        var taken = await store.GetOrAcquireAsync(missing, me, TimeSpan.FromSeconds(30), default);
        var heldElsewhere = await store.GetOrAcquireAsync(missing, other, TimeSpan.FromSeconds(30), default);
        var storedLock = await a.ExecuteAsync("EXISTS", "aiedge:lock:{" + stored + "}").WaitAsync(Timeout);
        var missingLock = await a.ExecuteAsync("GET", "aiedge:lock:{" + missing + "}").WaitAsync(Timeout);

        Assert.Equal(new byte[] { 1, 2, 3 }, found.Entry);
        Assert.False(found.Acquired);
        Assert.Equal(0, storedLock.Integer);
        Assert.Null(taken.Entry);
        Assert.True(taken.Acquired);
        Assert.Equal(me.ToString("N"), missingLock.ToString());
        Assert.Null(heldElsewhere.Entry);
        Assert.False(heldElsewhere.Acquired);
    }

    [Fact]
    public async Task SetAndRelease_WritesTheEntryUnderOnePrefixAndReleasesOnlyItsOwnersLock()
    {
        await using var a = await RedisTestConnections.ConnectAsync(redis.Configuration);
        var store = Store(a);
        var mine = NewKey();
        var theirs = NewKey();
        var (me, them) = (Guid.NewGuid(), Guid.NewGuid());
        Assert.True(await store.TryAcquireAsync(mine, me, TimeSpan.FromSeconds(30), default));
        Assert.True(await store.TryAcquireAsync(theirs, them, TimeSpan.FromSeconds(30), default));

        await store.SetAndReleaseAsync(mine, new byte[] { 4, 5 }, TimeSpan.FromSeconds(20), me, default);
        await store.SetAndReleaseAsync(theirs, new byte[] { 6 }, TimeSpan.FromSeconds(20), me, default);

        var ttl = await a.ExecuteAsync("PTTL", "aiedge:cache:{" + mine + "}").WaitAsync(Timeout);
        Assert.Equal(new byte[] { 4, 5 }, (await a.ExecuteAsync("GET", "aiedge:cache:{" + mine + "}").WaitAsync(Timeout)).Bytes);
        Assert.Equal(new byte[] { 6 }, await store.GetAsync(theirs, default));
        Assert.InRange(ttl.Integer, 1, 20_000);
        Assert.True(await store.TryAcquireAsync(mine, Guid.NewGuid(), TimeSpan.FromSeconds(1), default));
        Assert.False(await store.TryAcquireAsync(theirs, Guid.NewGuid(), TimeSpan.FromSeconds(1), default));
    }

    [Fact]
    public async Task RedisUnreachable_ReadsNothingAndCoalescesLocally()
    {
        await using var down = RedisTestConnections.Create("127.0.0.1:1");
        var store = Store(down);
        var key = NewKey();
        var (a, b) = (Guid.NewGuid(), Guid.NewGuid());

        var first = await store.GetOrAcquireAsync(key, a, TimeSpan.FromSeconds(30), default);
        var second = await store.GetOrAcquireAsync(key, b, TimeSpan.FromSeconds(30), default);
        await store.SetAndReleaseAsync(key, new byte[] { 1 }, TimeSpan.FromSeconds(5), a, default);
        var afterRelease = await store.GetOrAcquireAsync(key, b, TimeSpan.FromSeconds(30), default);

        Assert.Equal(new PredictionCacheLookup(null, true), first);
        Assert.Equal(new PredictionCacheLookup(null, false), second);
        Assert.Equal(new PredictionCacheLookup(null, true), afterRelease);
    }
}
