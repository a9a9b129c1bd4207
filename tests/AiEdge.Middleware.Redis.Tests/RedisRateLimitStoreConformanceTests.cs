using AiEdge.Middleware.Conformance;
using AiEdge.Middleware.RateLimiting;
using AiEdge.Middleware.Redis.Internal;
using AiEdge.Middleware.Testing;

namespace AiEdge.Middleware.Redis.Tests;

/// <summary>
/// The Redis rate-limit store passes the conformance kit on a real redis-server: on its own clock (Redis <c>TIME</c>,
/// as in production: <see cref="RateLimitStoreConformanceOptions.UsesOwnClock"/>, so the checks that need a controlled
/// clock are left out) and on the caller's clock (a fixed Redis-side time set to each batch's <c>NowMs</c>, so its Lua
/// arithmetic is held to every field of LeakyBucket's).
/// </summary>
public sealed class RedisRateLimitStoreConformanceTests(RedisServerFixture redis) : IClassFixture<RedisServerFixture>, IAsyncLifetime
{
    private RedisConnection _connection = null!;

    public static TheoryData<string> ServerClockChecks() => new(RateLimitStoreConformance.Checks(ServerClock(NoStore)).Names());

    public static TheoryData<string> BatchClockChecks() => new(RateLimitStoreConformance.Checks(BatchClock(NoStore)).Names());

    public async Task InitializeAsync()
        // A generous command timeout: a busy machine must not send a decision to the local fallback and pass that off
        // as the store's answer.
        => _connection = await RedisTestConnections.ConnectAsync(redis.Configuration, static o => o.CommandTimeout = RedisTestConnections.Timeout);

    public async Task DisposeAsync() => await _connection.DisposeAsync();

    [Theory]
    [MemberData(nameof(ServerClockChecks))]
    public Task RedisStore_OnRedisTime_PassesCheck(string check)
        => RateLimitStoreConformance.Checks(ServerClock(() => new RedisRateLimitStore(_connection, RedisRateLimitStoreTests.InMemory(), new RedisOptions(), null)))
            .Get(check)
            .RunAsync();

    [Theory]
    [MemberData(nameof(BatchClockChecks))]
    public Task RedisStore_OnTheBatchClock_PassesCheck(string check)
        => RateLimitStoreConformance.Checks(BatchClock(() => new BatchClockStore(new RedisRateLimitStore(_connection, RedisRateLimitStoreTests.InMemory(), new RedisOptions(), null))))
            .Get(check)
            .RunAsync();

    private static RateLimitStoreConformanceOptions ServerClock(Func<IRateLimitStore> createStore) => new() { CreateStore = createStore, UsesOwnClock = true };

    private static RateLimitStoreConformanceOptions BatchClock(Func<IRateLimitStore> createStore) => new() { CreateStore = createStore };

    // Lists names only: which checks the kit yields depends on the options, never on the store.
    private static IRateLimitStore NoStore() => throw new InvalidOperationException("Only the names are listed.");

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
