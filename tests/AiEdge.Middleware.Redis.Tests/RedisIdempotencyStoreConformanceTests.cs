using AiEdge.Middleware.Caching;
using AiEdge.Middleware.Conformance;
using AiEdge.Middleware.Redis.Internal;
using AiEdge.Middleware.Testing;

namespace AiEdge.Middleware.Redis.Tests;

/// <summary>
/// The Redis store passes every check of the idempotency store conformance kit on a real redis-server, on the
/// server's clock (short real leases, polled). Each store the kit gets is two replicas (two connections) taking the
/// calls in turn, so a claim made on one is seen, completed or released through the other.
/// </summary>
public sealed class RedisIdempotencyStoreConformanceTests(RedisServerFixture redis) : IClassFixture<RedisServerFixture>, IAsyncLifetime
{
    private RedisConnection? _a;
    private RedisConnection? _b;

    public static TheoryData<string> Checks => new(IdempotencyStoreConformance.Checks(new() { CreateStore = static () => throw new InvalidOperationException() }).Names());

    public async Task InitializeAsync()
    {
        // A generous command timeout: a busy machine must not send a claim to the local fallback and pass that off as
        // the store's answer.
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
        => IdempotencyStoreConformance.Checks(new() { CreateStore = CreateStore }).Get(check).RunAsync().WaitAsync(RedisTestConnections.Timeout);

    private IIdempotencyStore CreateStore()
    {
        // A fresh prefix per store: the replicas share it, the kit's other stores do not see its keys.
        var options = new RedisOptions { KeyPrefix = "conformance:" + Guid.NewGuid().ToString("N") + ":" };
        return new TwoReplicas(
            new RedisIdempotencyStore(_a!, new InMemoryIdempotencyStore(TimeProvider.System), options, null),
            new RedisIdempotencyStore(_b!, new InMemoryIdempotencyStore(TimeProvider.System), options, null));
    }

    // Replicas sharing one Redis: each call goes to the next one in turn.
    private sealed class TwoReplicas(IIdempotencyStore first, IIdempotencyStore second) : IIdempotencyStore
    {
        private int _calls;

        public ValueTask<IdempotencyClaim> TryClaimAsync(string key, byte[] fingerprint, string token, TimeSpan lease, CancellationToken cancellationToken)
            => Next().TryClaimAsync(key, fingerprint, token, lease, cancellationToken);

        public ValueTask<bool> CompleteAsync(string key, string token, IdempotencyRecord record, TimeSpan retention, CancellationToken cancellationToken)
            => Next().CompleteAsync(key, token, record, retention, cancellationToken);

        public ValueTask ReleaseAsync(string key, string token, CancellationToken cancellationToken)
            => Next().ReleaseAsync(key, token, cancellationToken);

        public ValueTask<IdempotencyRecord?> GetAsync(string key, CancellationToken cancellationToken)
            => Next().GetAsync(key, cancellationToken);

        private IIdempotencyStore Next() => (Interlocked.Increment(ref _calls) & 1) == 0 ? first : second;
    }
}
