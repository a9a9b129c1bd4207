using AiEdge.Middleware.Concurrency;
using AiEdge.Middleware.Conformance;
using AiEdge.Middleware.Redis.Internal;
using AiEdge.Middleware.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace AiEdge.Middleware.Redis.Tests;

/// <summary>
/// The Redis concurrency store passes every check of the concurrency store conformance kit on a real redis-server, on
/// the server's clock (short real leases, polled). Each store the kit gets is two replicas (two connections) taking
/// the calls in turn, so a lease taken on one is counted, renewed and released through the other.
/// </summary>
public sealed class RedisConcurrencyStoreTests(RedisServerFixture redis) : IClassFixture<RedisServerFixture>, IAsyncLifetime
{
    private RedisConnection? _a;
    private RedisConnection? _b;

    public static TheoryData<string> Checks => new(ConcurrencyStoreConformance.Checks(new() { CreateStore = static () => throw new InvalidOperationException() }).Names());

    public async Task InitializeAsync()
    {
        // A generous command timeout: a busy machine must not send an acquire to the local fallback and pass that off
        // as the store's answer.
        _a = await RedisTestConnections.ConnectAsync(redis.Configuration, static o => o.CommandTimeout = RedisTestConnections.Timeout);
        _b = await RedisTestConnections.ConnectAsync(redis.Configuration, static o => o.CommandTimeout = RedisTestConnections.Timeout);
    }

    public async Task DisposeAsync()
    {
        await _a!.DisposeAsync();
        await _b!.DisposeAsync();
    }

    [Theory]
    [MemberData(nameof(Checks))]
    public Task RedisStore_PassesCheck(string check)
        => ConcurrencyStoreConformance.Checks(new() { CreateStore = CreateStore }).Get(check).RunAsync().WaitAsync(RedisTestConnections.Timeout);

    [Fact]
    public async Task Keys_OfOneStoreKey_AreTaggedByTheKey_AndExpireWithTheirLeases()
    {
        var options = Options();
        using var store = Store(_a!, options, RedisFailureMode.FailOpen);
        var lease = await store.TryAcquireAsync("tier:{odd}key", 2, TimeSpan.FromSeconds(5), CancellationToken.None);
        Assert.True(lease.Acquired);
        Assert.True(lease.Id > 0);

        var leases = options.KeyPrefix + "conc:{tier:{odd}key}";
        Assert.Equal(1, (long)await _a!.ExecuteAsync("ZCARD", leases));
        Assert.InRange((long)await _a.ExecuteAsync("PTTL", leases), 1, 5000);
        Assert.InRange((long)await _a.ExecuteAsync("PTTL", leases + ":n"), 1, 5000);
    }

    [Fact]
    public async Task FailOpen_RedisUnreachable_DecidesPerReplica_AndKeepsLocalLeasesLocal()
    {
        var configured = RedisTestConnections.Create("127.0.0.1:1,abortConnect=false,connectTimeout=200");
        await using var _ = configured;
        using var store = Store(configured, Options(), RedisFailureMode.FailOpen);

        var first = await store.TryAcquireAsync("k", 1, TimeSpan.FromMinutes(1), CancellationToken.None);
        var second = await store.TryAcquireAsync("k", 1, TimeSpan.FromMinutes(1), CancellationToken.None);

        Assert.True(first.Acquired);
        Assert.True(first.Id < 0);
        Assert.False(second.Acquired);
        Assert.True(await store.RenewAsync("k", first.Id, TimeSpan.FromMinutes(1), CancellationToken.None));
        await store.ReleaseAsync("k", first.Id, CancellationToken.None);
        Assert.Equal(0, await store.CountAsync("k", CancellationToken.None));
        Assert.True((await store.TryAcquireAsync("k", 1, TimeSpan.FromMinutes(1), CancellationToken.None)).Acquired);
    }

    [Fact]
    public async Task FailClosed_RedisUnreachable_RefusesEverySlot()
    {
        var configured = RedisTestConnections.Create("127.0.0.1:1,abortConnect=false,connectTimeout=200");
        await using var _ = configured;
        using var store = Store(configured, Options(), RedisFailureMode.FailClosed);

        var lease = await store.TryAcquireAsync("k", 5, TimeSpan.FromMinutes(1), CancellationToken.None);

        Assert.False(lease.Acquired);
    }

    private static RedisOptions Options(RedisFailureMode mode = RedisFailureMode.FailOpen)

        // A fresh prefix per store: the replicas share it, the kit's other stores do not see its keys.
        => new() { KeyPrefix = "conformance:" + Guid.NewGuid().ToString("N") + ":", FailureMode = mode };

    private static RedisConcurrencyStore Store(IRedisConnection connection, RedisOptions options, RedisFailureMode mode)
    {
        options.FailureMode = mode;
        return new RedisConcurrencyStore(connection, new InMemoryConcurrencyStore(TimeProvider.System), options, null, null, TimeProvider.System, NullLogger.Instance);
    }

    private IConcurrencyStore CreateStore()
    {
        var options = Options();
        return new TwoReplicas(Store(_a!, options, RedisFailureMode.FailOpen), Store(_b!, options, RedisFailureMode.FailOpen));
    }

    // Replicas sharing one Redis: each call goes to the next one in turn.
    private sealed class TwoReplicas(RedisConcurrencyStore first, RedisConcurrencyStore second) : IConcurrencyStore, IDisposable
    {
        private int _calls;

        public ValueTask<ConcurrencyLease> TryAcquireAsync(string key, int limit, TimeSpan leaseDuration, CancellationToken cancellationToken)
            => Next().TryAcquireAsync(key, limit, leaseDuration, cancellationToken);

        public ValueTask<bool> RenewAsync(string key, long leaseId, TimeSpan leaseDuration, CancellationToken cancellationToken)
            => Next().RenewAsync(key, leaseId, leaseDuration, cancellationToken);

        public ValueTask ReleaseAsync(string key, long leaseId, CancellationToken cancellationToken)
            => Next().ReleaseAsync(key, leaseId, cancellationToken);

        public ValueTask<int> CountAsync(string key, CancellationToken cancellationToken)
            => Next().CountAsync(key, cancellationToken);

        public void Dispose()
        {
            first.Dispose();
            second.Dispose();
        }

        private IConcurrencyStore Next() => (Interlocked.Increment(ref _calls) & 1) == 0 ? first : second;
    }
}
