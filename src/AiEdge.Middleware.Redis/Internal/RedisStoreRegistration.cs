using AiEdge.Middleware.Caching;
using AiEdge.Middleware.Caching.Internal;
using AiEdge.Middleware.Concurrency;
using AiEdge.Middleware.Internal;
using AiEdge.Middleware.RateLimiting;
using AiEdge.Middleware.Resilience;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AiEdge.Middleware.Redis.Internal;

/// <summary>Builds the shared stores over the in-memory ones they fall back to.</summary>
internal static class RedisStoreRegistration
{
    public static IRateLimitStore RateLimitStore(IServiceProvider services)
    {
        // The fallback is the store AddRateLimiting registers (so its bucket count is reported), or a plain one.
        var local = services.GetService<InMemoryRateLimitStore>()
            ?? new InMemoryRateLimitStore(services.GetRequiredService<IOptions<RateLimitingOptions>>(), services.GetRequiredService<TimeProvider>());
        var redis = services.GetRequiredService<IRedisConnection>();
        if (redis.State == RedisConnectionState.NotConfigured)
        {
            return local;
        }

        var options = services.GetRequiredService<IOptions<RedisOptions>>().Value;
        var exact = new RedisRateLimitStore(redis, local, options, services.GetService<RedisMetrics>(), services.GetService<RedisReplicaPresence>());
        return options.RateLimitLeases.Enabled
            ? new RedisRateLimitLeaseStore(exact, redis, options.RateLimitLeases, services.GetService<TimeProvider>() ?? TimeProvider.System)
            : exact;
    }

    public static IIdempotencyStore IdempotencyStore(IServiceProvider services)
    {
        // AddIdempotency() registers the bounded in-memory store; without it no middleware asks for a store.
        var local = services.GetService<InMemoryIdempotencyStore>()
            ?? new InMemoryIdempotencyStore(services.GetRequiredService<TimeProvider>(), services.GetRequiredService<IOptions<IdempotencyOptions>>().Value.SizeLimit);
        var redis = services.GetRequiredService<IRedisConnection>();
        return redis.State == RedisConnectionState.NotConfigured
            ? local
            : new RedisIdempotencyStore(redis, local, services.GetRequiredService<IOptions<RedisOptions>>().Value, services.GetService<RedisMetrics>());
    }

    /// <summary>
    /// The concurrency tiers' store in Redis, over the in-memory store it falls back to (the one <c>AddConcurrency()</c>
    /// registers, so its keys are the ones reported), or that in-memory store when Redis is not configured.
    /// </summary>
    public static IConcurrencyStore ConcurrencyStore(IServiceProvider services)
    {
        var local = services.GetService<InMemoryConcurrencyStore>() ?? new InMemoryConcurrencyStore(services.GetRequiredService<TimeProvider>());
        var redis = services.GetRequiredService<IRedisConnection>();
        if (redis.State == RedisConnectionState.NotConfigured)
        {
            return local;
        }

        // The wake-up timers run on the system clock: leases expire on the Redis server's real clock.
        return new RedisConcurrencyStore(
            redis,
            local,
            services.GetRequiredService<IOptions<RedisOptions>>().Value,
            services.GetService<ConcurrencySlotSignal>(),
            services.GetService<RedisMetrics>(),
            TimeProvider.System,
            services.GetRequiredService<ILoggerFactory>().CreateLogger<RedisConcurrencyStore>());
    }

    /// <summary>
    /// The backend cool-down store in Redis; without a Redis configuration, the store registered before
    /// <c>AddRedis()</c> (the reverse proxy's in-memory one), else the Redis one, which then records nothing (each
    /// replica keeps its own cool-downs).
    /// </summary>
    public static IBackendCooldownStore CooldownStore(IServiceProvider services, IBackendCooldownStore? previous)
    {
        var redis = services.GetRequiredService<IRedisConnection>();
        if (redis.State == RedisConnectionState.NotConfigured && previous is not null)
        {
            return previous;
        }

        return new RedisBackendCooldownStore(redis, services.GetRequiredService<IOptions<RedisOptions>>().Value, services.GetRequiredService<TimeProvider>(), services.GetService<RedisMetrics>());
    }

    /// <summary>
    /// The prediction cache's store in Redis, over the in-process store it falls back to; <see langword="null"/> (the
    /// cache's own default) when Redis is not configured. Its entries go to the app's <see cref="IDistributedCache"/>
    /// when the app registered one and <see cref="RedisOptions.UseAppDistributedCache"/> is on.
    /// </summary>
    public static IPredictionCacheStore? PredictionCacheStore(IServiceProvider services)
    {
        var redis = services.GetRequiredService<IRedisConnection>();
        if (redis.State == RedisConnectionState.NotConfigured)
        {
            return null;
        }

        var options = services.GetRequiredService<IOptions<RedisOptions>>().Value;
        var metrics = services.GetService<RedisMetrics>();
        var store = new RedisPredictionCacheStore(redis, new InMemoryPredictionCacheStore(services.GetRequiredService<TimeProvider>()), options, metrics);

        // AddRedis registers no IDistributedCache: one that is registered is the app's.
        var appCache = options.UseAppDistributedCache ? services.GetService<IDistributedCache>() : null;
        if (appCache is null)
        {
            return store;
        }

        RedisLog.EntriesInAppCache(services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(RedisStoreRegistration)), appCache.GetType().FullName ?? appCache.GetType().Name);
        return new AppCachePredictionCacheStore(appCache, store, options, metrics);
    }
}

/// <summary>Startup events of the Redis registration.</summary>
internal static partial class RedisLog
{
    [LoggerMessage(1805, LogLevel.Information, "The prediction cache keeps its shared entries in the app's IDistributedCache ({CacheType}); the coalescing lock stays in Redis. Set AiEdge:Redis:UseAppDistributedCache to false to keep them in AiEdge's own keys.", EventName = "RedisEntriesInAppCache")]
    public static partial void EntriesInAppCache(ILogger logger, string cacheType);
}
