using AiEdge.Middleware.Caching;
using AiEdge.Middleware.Internal;
using StackExchange.Redis;

namespace AiEdge.Middleware.Redis.Internal;

/// <summary>
/// Idempotency-Key claims and records shared by every replica. A key is a hash under
/// <c>{prefix}idem:{{key}}</c>: <c>s</c> is <c>c</c> (claimed, with token <c>t</c> and fingerprint <c>f</c>, expiring
/// after the lease) or <c>d</c> (completed, record <c>r</c>, expiring after the retention). Each method is one
/// script, so claims are atomic across replicas. While Redis is unreachable the replica's in-memory store answers
/// (fail-open) or the call throws (fail-closed).
/// </summary>
internal sealed class RedisIdempotencyStore(IRedisConnection redis, IIdempotencyStore local, RedisOptions options, RedisMetrics? metrics) : IIdempotencyStore
{
    // ARGV: token, fingerprint, lease ms. Returns {0} claimed, {1, fingerprint} in progress, {2, record} completed.
    internal static readonly RedisScript ClaimScript = new("idempotency-claim", """
        local v = redis.call('HMGET', KEYS[1], 's', 'f', 'r')
        if v[1] == 'd' then return {2, v[3]} end
        if v[1] == 'c' then return {1, v[2]} end
        redis.call('HSET', KEYS[1], 's', 'c', 't', ARGV[1], 'f', ARGV[2])
        redis.call('PEXPIRE', KEYS[1], ARGV[3])
        return {0}
        """);

    // ARGV: token, record, retention ms. Returns 1 when the token held the claim.
    internal static readonly RedisScript CompleteScript = new("idempotency-complete", """
        local v = redis.call('HMGET', KEYS[1], 's', 't')
        if v[1] ~= 'c' or v[2] ~= ARGV[1] then return 0 end
        redis.call('DEL', KEYS[1])
        redis.call('HSET', KEYS[1], 's', 'd', 'r', ARGV[2])
        redis.call('PEXPIRE', KEYS[1], ARGV[3])
        return 1
        """);

    // ARGV: token. Drops the claim when the token holds it.
    internal static readonly RedisScript ReleaseScript = new("idempotency-release", """
        local v = redis.call('HMGET', KEYS[1], 's', 't')
        if v[1] == 'c' and v[2] == ARGV[1] then redis.call('DEL', KEYS[1]) return 1 end
        return 0
        """);

    private const string Concern = "idempotency";
    private static readonly RedisValue[] StateAndRecord = ["s", "r"];
    private static readonly RedisValue Done = "d";
    private readonly string _prefix = options.KeyPrefix + "idem:{";
    private readonly bool _failClosed = options.FailureMode == RedisFailureMode.FailClosed;

    private string Key(string key) => string.Concat(_prefix, key, "}");

    public async ValueTask<IdempotencyClaim> TryClaimAsync(string key, byte[] fingerprint, string token, TimeSpan lease, CancellationToken cancellationToken)
    {
        if (redis.IsConnected)
        {
            try
            {
                var reply = await redis.EvaluateAsync(ClaimScript, [Key(key)], [token, fingerprint, Milliseconds(lease)]).WaitAsync(cancellationToken).ConfigureAwait(false);
                if (reply is { Resp2Type: ResultType.Array, Length: > 0 })
                {
                    switch ((long)reply[0])
                    {
                        case 0:
                            return IdempotencyClaim.Claimed;
                        case 1:
                            return IdempotencyClaim.InProgress((byte[]?)reply[1]);
                        case 2 when (byte[]?)reply[1] is { } data && IdempotencyRecord.TryDeserialize(data, out var record):
                            return IdempotencyClaim.Completed(record);
                    }
                }

                throw new RedisConnectionException("Unexpected reply to the idempotency claim script: " + reply);
            }
            catch (RedisConnectionException ex)
            {
                FallingBack(ex);
            }
        }
        else
        {
            FallingBack(null);
        }

        return await local.TryClaimAsync(key, fingerprint, token, lease, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<bool> CompleteAsync(string key, string token, IdempotencyRecord record, TimeSpan retention, CancellationToken cancellationToken)
    {
        if (redis.IsConnected)
        {
            try
            {
                var reply = await redis.EvaluateAsync(CompleteScript, [Key(key)], [token, record.Serialize(), Milliseconds(retention)]).WaitAsync(cancellationToken).ConfigureAwait(false);
                if (reply.Resp2Type == ResultType.Integer)
                {
                    return (long)reply == 1;
                }

                throw new RedisConnectionException("Unexpected reply to the idempotency complete script: " + reply);
            }
            catch (RedisConnectionException ex)
            {
                FallingBack(ex);
            }
        }
        else
        {
            FallingBack(null);
        }

        return await local.CompleteAsync(key, token, record, retention, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask ReleaseAsync(string key, string token, CancellationToken cancellationToken)
    {
        if (redis.IsConnected)
        {
            try
            {
                await redis.EvaluateAsync(ReleaseScript, [Key(key)], [token]).WaitAsync(cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (RedisConnectionException ex)
            {
                FallingBack(ex);
            }
        }
        else
        {
            FallingBack(null);
        }

        await local.ReleaseAsync(key, token, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<IdempotencyRecord?> GetAsync(string key, CancellationToken cancellationToken)
    {
        if (redis.IsConnected)
        {
            try
            {
                var reply = await redis.RunAsync(redis.Database.HashGetAsync(Key(key), StateAndRecord), "HMGET").WaitAsync(cancellationToken).ConfigureAwait(false);
                if (reply.Length == 2)
                {
                    return reply[0] == Done && (byte[]?)reply[1] is { } data && IdempotencyRecord.TryDeserialize(data, out var record)
                        ? record
                        : null;
                }

                throw new RedisConnectionException("Unexpected reply to HMGET: " + reply);
            }
            catch (RedisConnectionException ex)
            {
                FallingBack(ex);
            }
        }
        else
        {
            FallingBack(null);
        }

        return await local.GetAsync(key, cancellationToken).ConfigureAwait(false);
    }

    private void FallingBack(RedisConnectionException? error)
    {
        if (redis.State == RedisConnectionState.NotConfigured)
        {
            return;
        }

        if (_failClosed)
        {
            throw error ?? new RedisConnectionException("Redis is not connected.");
        }

        metrics?.RedisFallback(Concern);
    }

    private static long Milliseconds(TimeSpan span) => Math.Max(1, (long)Math.Ceiling(span.TotalMilliseconds));
}
