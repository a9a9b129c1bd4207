using AiEdge.Middleware.Internal;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace AiEdge.Middleware.Redis.Internal;

/// <summary>
/// <see cref="IDistributedCache"/> over the shared Redis connection. Each entry is a hash (data, sliding window,
/// absolute expiry) whose TTL the scripts keep in step, all on Redis's clock. While Redis is unreachable reads
/// miss and writes are dropped (the caller's own level, if any, keeps serving); when Redis is not configured the
/// cache is an in-process memory cache, so an app can depend on <see cref="IDistributedCache"/> either way.
/// </summary>
internal sealed class RedisDistributedCache : IDistributedCache
{
    // Writes the entry at KEYS[1]: ARGV[1] data, ARGV[2] sliding ms (0: none), ARGV[3] absolute ms from now (0: none).
    // Every script that writes an entry starts with it.
    internal const string WriteEntryLua = """
        local sliding = tonumber(ARGV[2])
        local absolute = tonumber(ARGV[3])
        local ttl = sliding
        local expires = 0
        if absolute > 0 then
          local t = redis.call('TIME')
          local now = t[1] * 1000 + math.floor(t[2] / 1000)
          expires = now + absolute
          if ttl == 0 or absolute < ttl then ttl = absolute end
        end
        redis.call('HSET', KEYS[1], 'd', ARGV[1], 's', sliding, 'a', expires)
        if ttl > 0 then redis.call('PEXPIRE', KEYS[1], ttl) else redis.call('PERSIST', KEYS[1]) end

        """;

    // KEYS[1] entry; ARGV as WriteEntryLua.
    internal static readonly RedisScript SetScript = new("cache-set", WriteEntryLua + """
        return 1
        """);

    // Reads the entry at KEYS[1] into v (v[1] is the data, false when there is none) and slides its TTL, never past
    // the absolute expiry. Every script that reads an entry starts with it.
    internal const string ReadEntryLua = """
        local v = redis.call('HMGET', KEYS[1], 'd', 's', 'a')
        if v[1] then
          local sliding = tonumber(v[2]) or 0
          if sliding > 0 then
            local ttl = sliding
            local absolute = tonumber(v[3]) or 0
            if absolute > 0 then
              local t = redis.call('TIME')
              local now = t[1] * 1000 + math.floor(t[2] / 1000)
              if absolute - now < ttl then ttl = absolute - now end
            end
            if ttl > 0 then redis.call('PEXPIRE', KEYS[1], ttl) end
          end
        end

        """;

    // KEYS[1] entry; ARGV[1] '1' to return the data.
    internal static readonly RedisScript GetScript = new("cache-get", ReadEntryLua + """
        if not v[1] then return false end
        if ARGV[1] == '1' then return v[1] end
        return 1
        """);

    private static readonly RedisValue One = "1";
    private static readonly RedisValue Zero = "0";

    /// <summary>What follows the key prefix in every entry's key.</summary>
    internal const string KeySegment = "dc:";

    private readonly IRedisConnection _connection;
    private readonly TimeProvider _time;
    private readonly RedisMetrics? _metrics;
    private readonly string _prefix;
    private readonly MemoryDistributedCache? _local;

    public RedisDistributedCache(IRedisConnection connection, IOptions<RedisOptions> options, TimeProvider time, RedisMetrics? metrics = null)
    {
        _connection = connection;
        _time = time;
        _metrics = metrics;
        _prefix = options.Value.KeyPrefix + KeySegment;
        if (connection.State == RedisConnectionState.NotConfigured)
        {
            _local = new MemoryDistributedCache(Options.Create(new MemoryDistributedCacheOptions()));
        }
    }

    public byte[]? Get(string key) => GetAsync(key).GetAwaiter().GetResult();

    public async Task<byte[]?> GetAsync(string key, CancellationToken token = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (_local is not null)
        {
            return await _local.GetAsync(key, token).ConfigureAwait(false);
        }

        if (!_connection.IsConnected)
        {
            _metrics?.RedisFallback("distributed-cache");
            return null;
        }

        try
        {
            var reply = await _connection.EvaluateAsync(GetScript, [_prefix + key], [One]).WaitAsync(token).ConfigureAwait(false);
            return reply.Resp2Type == ResultType.BulkString ? (byte[]?)reply : null;
        }
        catch (RedisConnectionException)
        {
            _metrics?.RedisFallback("distributed-cache");
            return null;
        }
    }

    public void Set(string key, byte[] value, DistributedCacheEntryOptions options) => SetAsync(key, value, options).GetAwaiter().GetResult();

    public async Task SetAsync(string key, byte[] value, DistributedCacheEntryOptions options, CancellationToken token = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        ArgumentNullException.ThrowIfNull(options);
        if (_local is not null)
        {
            await _local.SetAsync(key, value, options, token).ConfigureAwait(false);
            return;
        }

        var absolute = options.AbsoluteExpirationRelativeToNow
            ?? (options.AbsoluteExpiration is { } at ? at - _time.GetUtcNow() : (TimeSpan?)null);
        if (absolute is { } a && a <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(options), a, "The absolute expiration must be in the future.");
        }

        if (!_connection.IsConnected)
        {
            _metrics?.RedisFallback("distributed-cache");
            return;
        }

        var sliding = (long)(options.SlidingExpiration?.TotalMilliseconds ?? 0);
        var absoluteMs = absolute is { } abs ? Math.Max(1, (long)abs.TotalMilliseconds) : 0;
        try
        {
            await _connection.EvaluateAsync(SetScript, [_prefix + key], [value, sliding, absoluteMs]).WaitAsync(token).ConfigureAwait(false);
        }
        catch (RedisConnectionException)
        {
            _metrics?.RedisFallback("distributed-cache");
        }
    }

    public void Refresh(string key) => RefreshAsync(key).GetAwaiter().GetResult();

    public async Task RefreshAsync(string key, CancellationToken token = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (_local is not null)
        {
            await _local.RefreshAsync(key, token).ConfigureAwait(false);
            return;
        }

        if (!_connection.IsConnected)
        {
            return;
        }

        try
        {
            await _connection.EvaluateAsync(GetScript, [_prefix + key], [Zero]).WaitAsync(token).ConfigureAwait(false);
        }
        catch (RedisConnectionException)
        {
            _metrics?.RedisFallback("distributed-cache");
        }
    }

    public void Remove(string key) => RemoveAsync(key).GetAwaiter().GetResult();

    public async Task RemoveAsync(string key, CancellationToken token = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (_local is not null)
        {
            await _local.RemoveAsync(key, token).ConfigureAwait(false);
            return;
        }

        if (!_connection.IsConnected)
        {
            return;
        }

        try
        {
            await _connection.RunAsync(_connection.Database.KeyDeleteAsync(_prefix + key), "DEL").WaitAsync(token).ConfigureAwait(false);
        }
        catch (RedisConnectionException)
        {
            _metrics?.RedisFallback("distributed-cache");
        }
    }
}
