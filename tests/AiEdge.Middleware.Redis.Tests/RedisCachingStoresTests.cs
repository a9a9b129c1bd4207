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

    private static IdempotencyRecord Record(byte[] fingerprint, string body) => new(
        fingerprint,
        new CachedResponse(201, [new("Content-Type", new StringValues("application/json"))], System.Text.Encoding.UTF8.GetBytes(body), null, DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch.AddHours(1), DateTimeOffset.UnixEpoch.AddHours(1)));

    private async Task<(RedisConnection A, RedisConnection B, RedisIdempotencyStore StoreA, RedisIdempotencyStore StoreB)> TwoReplicasAsync()
    {
        var a = await RedisTestConnections.ConnectAsync(redis.Configuration);
        var b = await RedisTestConnections.ConnectAsync(redis.Configuration);
        var time = new FakeTimeProvider(TestClock.Start);
        return (a, b, new RedisIdempotencyStore(a, new InMemoryIdempotencyStore(time), new RedisOptions(), null), new RedisIdempotencyStore(b, new InMemoryIdempotencyStore(time), new RedisOptions(), null));
    }

    [Fact]
    public async Task TryClaimAsync_ConcurrentClaimsFromTwoReplicas_ExactlyOneWins()
    {
        var (a, b, storeA, storeB) = await TwoReplicasAsync();
        await using var _ = a;
        await using var __ = b;
        var key = NewKey();
        var fingerprint = RandomNumberGenerator.GetBytes(32);

        var claims = await Task.WhenAll(Enumerable.Range(0, 200).Select(i => Task.Run(async () =>
            await (i % 2 == 0 ? storeA : storeB).TryClaimAsync(key, fingerprint, "token-" + i, TimeSpan.FromSeconds(30), default)))).WaitAsync(Timeout);

        Assert.Single(claims, static c => c.Status == IdempotencyClaimStatus.Claimed);
        Assert.All(claims.Where(static c => c.Status != IdempotencyClaimStatus.Claimed), c =>
        {
            Assert.Equal(IdempotencyClaimStatus.InProgress, c.Status);
            Assert.Equal(fingerprint, c.Fingerprint);
        });
    }

    [Fact]
    public async Task CompleteAsync_OnOneReplica_IsReplayedByTheOther()
    {
        var (a, b, storeA, storeB) = await TwoReplicasAsync();
        await using var _ = a;
        await using var __ = b;
        var key = NewKey();
        var fingerprint = RandomNumberGenerator.GetBytes(32);

        Assert.Equal(IdempotencyClaimStatus.Claimed, (await storeA.TryClaimAsync(key, fingerprint, "t1", TimeSpan.FromSeconds(30), default)).Status);
        Assert.False(await storeB.CompleteAsync(key, "not-the-owner", Record(fingerprint, "{}"), TimeSpan.FromMinutes(1), default));
        Assert.True(await storeA.CompleteAsync(key, "t1", Record(fingerprint, "{\"job\":1}"), TimeSpan.FromMinutes(1), default));

        var claim = await storeB.TryClaimAsync(key, fingerprint, "t2", TimeSpan.FromSeconds(30), default);
        var record = await storeB.GetAsync(key, default);
        var ttl = await b.ExecuteAsync("PTTL", "aiedge:idem:{" + key + "}").WaitAsync(Timeout);

        Assert.Equal(IdempotencyClaimStatus.Completed, claim.Status);
        Assert.Equal(201, claim.Record!.Response.StatusCode);
        Assert.Equal("{\"job\":1}", System.Text.Encoding.UTF8.GetString(record!.Response.Body));
        Assert.Equal(fingerprint, record.Fingerprint);
        Assert.InRange(ttl.Integer, 1, 60_000);
    }

    [Fact]
    public async Task ReleaseAsync_ByTheOwner_LetsAnotherReplicaClaim()
    {
        var (a, b, storeA, storeB) = await TwoReplicasAsync();
        await using var _ = a;
        await using var __ = b;
        var key = NewKey();
        var fingerprint = RandomNumberGenerator.GetBytes(32);

        await storeA.TryClaimAsync(key, fingerprint, "t1", TimeSpan.FromSeconds(30), default);
        await storeB.ReleaseAsync(key, "someone-else", default);
        var whileHeld = await storeB.TryClaimAsync(key, fingerprint, "t2", TimeSpan.FromSeconds(30), default);
        await storeA.ReleaseAsync(key, "t1", default);
        var afterRelease = await storeB.TryClaimAsync(key, fingerprint, "t2", TimeSpan.FromSeconds(30), default);

        Assert.Equal(IdempotencyClaimStatus.InProgress, whileHeld.Status);
        Assert.Equal(IdempotencyClaimStatus.Claimed, afterRelease.Status);
    }
}
