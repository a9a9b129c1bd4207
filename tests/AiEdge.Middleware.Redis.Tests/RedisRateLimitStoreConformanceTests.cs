using AiEdge.Middleware.Conformance;
using AiEdge.Middleware.RateLimiting;
using AiEdge.Middleware.Redis.Internal;
using AiEdge.Middleware.Testing;

namespace AiEdge.Middleware.Redis.Tests;

/// <summary>
/// The Redis rate-limit store passes the conformance kit on a real redis-server: on its own clock (Redis <c>TIME</c>,
/// as in production: the checks that need a controlled clock are left out) and on the batch clock (a fixed Redis-side
/// time set to each batch's <c>NowMs</c>, so its Lua arithmetic is held to every field of LeakyBucket's).
/// </summary>
public sealed class RedisRateLimitStoreConformanceTests(RedisServerFixture redis) : IClassFixture<RedisServerFixture>, IAsyncLifetime
{
    private static readonly RateLimitStoreConformanceOptions ServerClock = new() { StoreDecidesOnBatchClock = false };
    private static readonly RateLimitStoreConformanceOptions BatchClock = new();

    private RedisConnection _connection = null!;

    public static TheoryData<string> ServerClockChecks() => Names(ServerClock);

    public static TheoryData<string> BatchClockChecks() => Names(BatchClock);

    public async Task InitializeAsync()
        // A generous command timeout: a busy machine must not send a decision to the local fallback and pass that off
        // as the store's answer.
        => _connection = await RedisTestConnections.ConnectAsync(redis.Configuration, static o => o.CommandTimeout = RedisTestConnections.Timeout);

    public async Task DisposeAsync() => await _connection.DisposeAsync();

    [Theory]
    [MemberData(nameof(ServerClockChecks))]
    public Task RedisStore_OnRedisTime_PassesCheck(string check)
        => RateLimitStoreConformance.Checks(() => new RedisRateLimitStore(_connection, RedisRateLimitStoreTests.InMemory(), new RedisOptions(), null), ServerClock)
            .Single(c => c.Name == check)
            .RunAsync();

    [Theory]
    [MemberData(nameof(BatchClockChecks))]
    public Task RedisStore_OnTheBatchClock_PassesCheck(string check)
        => RateLimitStoreConformance.Checks(() => new BatchClockStore(new RedisRateLimitStore(_connection, RedisRateLimitStoreTests.InMemory(), new RedisOptions(), null)), BatchClock)
            .Single(c => c.Name == check)
            .RunAsync();

    private static TheoryData<string> Names(RateLimitStoreConformanceOptions options)
    {
        var names = new TheoryData<string>();
        foreach (var check in RateLimitStoreConformance.Checks(static () => throw new InvalidOperationException("Only the names are listed."), options))
        {
            names.Add(check.Name);
        }

        return names;
    }

    /// <summary>Runs the Redis script on the batch's clock instead of Redis TIME (concurrent decisions of a check share one NowMs).</summary>
    private sealed class BatchClockStore(RedisRateLimitStore store) : IRateLimitStore
    {
        public ValueTask AcquireAsync(RateLimitBatch batch, CancellationToken cancellationToken)
        {
            store.FixedNowMs = batch.NowMs;
            return store.AcquireAsync(batch, cancellationToken);
        }

        public ValueTask<long> ReconcileAsync(RateLimitRule rule, PartitionKey partition, long deltaMilli, long nowMs, CancellationToken cancellationToken)
        {
            store.FixedNowMs = nowMs;
            return store.ReconcileAsync(rule, partition, deltaMilli, nowMs, cancellationToken);
        }
    }
}
