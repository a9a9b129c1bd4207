using System.Globalization;
using AiEdge.Middleware.Resilience;
using StackExchange.Redis;

namespace AiEdge.Middleware.Redis.Internal;

/// <summary>
/// Destination cool-downs shared by every replica. A backend's cool-downs are one hash under
/// <c>{prefix}cooldown:{{backend}}</c> (the hash tag keeps the key on one slot of a cluster): a field per destination,
/// holding the end of its cool-down in Unix milliseconds. A write keeps the later of two ends and extends the key's
/// expiry to the longest cool-down, so ended entries go away with their key; one script, atomic across replicas.
/// Reads are one <c>HGETALL</c>. Always fail-open, whatever <see cref="RedisOptions.FailureMode"/> says: while Redis is
/// unreachable a write is dropped and a read answers nothing, and each replica keeps the cool-downs it saw itself.
/// </summary>
internal sealed class RedisBackendCooldownStore(IRedisConnection redis, RedisOptions options, TimeProvider time, RedisMetrics? metrics) : IBackendCooldownStore
{
    // KEYS: the backend's hash. ARGV: destination, end (Unix ms), expiry of the key (ms).
    internal static readonly RedisScript CoolDownScript = new("cooldown-set", """
        local recorded = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
        if tonumber(ARGV[2]) > recorded then redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) end
        if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[3]) then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
        return 1
        """);

    private const string Concern = "cooldown";
    private static readonly IReadOnlyDictionary<string, DateTimeOffset> None = new Dictionary<string, DateTimeOffset>();
    private readonly string _prefix = options.KeyPrefix + "cooldown:{";

    internal string Key(string backend) => string.Concat(_prefix, backend, "}");

    public async ValueTask CoolDownAsync(string backend, string destination, DateTimeOffset until, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(backend);
        ArgumentNullException.ThrowIfNull(destination);
        if (!redis.IsConnected)
        {
            FallingBack();
            return;
        }

        // The key outlives the cool-down by a minute of clock skew between replicas; readers compare ends anyway.
        var expiry = Math.Max(1, (long)Math.Ceiling((until - time.GetUtcNow()).TotalMilliseconds)) + 60_000;
        try
        {
            await redis.EvaluateAsync(CoolDownScript, [Key(backend)], [destination, until.ToUnixTimeMilliseconds(), expiry])
                .WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (RedisConnectionException)
        {
            FallingBack();
        }
    }

    public async ValueTask<IReadOnlyDictionary<string, DateTimeOffset>> GetCooldownsAsync(string backend, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(backend);
        if (!redis.IsConnected)
        {
            FallingBack();
            return None;
        }

        HashEntry[] entries;
        try
        {
            entries = await redis.RunAsync(redis.Database.HashGetAllAsync(Key(backend)), "HGETALL").WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (RedisConnectionException)
        {
            FallingBack();
            return None;
        }

        if (entries.Length == 0)
        {
            return None;
        }

        var cooldowns = new Dictionary<string, DateTimeOffset>(entries.Length, StringComparer.Ordinal);
        foreach (var entry in entries)
        {
            if (long.TryParse((string?)entry.Value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var milliseconds))
            {
                cooldowns[(string)entry.Name!] = DateTimeOffset.FromUnixTimeMilliseconds(milliseconds);
            }
        }

        return cooldowns;
    }

    private void FallingBack()
    {
        if (redis.State != RedisConnectionState.NotConfigured)
        {
            metrics?.RedisFallback(Concern);
        }
    }
}
