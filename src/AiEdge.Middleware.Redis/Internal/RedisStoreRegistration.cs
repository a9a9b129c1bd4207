using AiEdge.Middleware.Caching;
using AiEdge.Middleware.Caching.Internal;
using AiEdge.Middleware.Internal;
using AiEdge.Middleware.RateLimiting;
using AiEdge.Middleware.RateLimiting.Internal;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace AiEdge.Middleware.Redis.Internal;

/// <summary>Builds the shared stores over the in-memory ones they fall back to.</summary>
internal static class RedisStoreRegistration
{
    public static IRateLimitStore RateLimitStore(IServiceProvider services)
    {
        var local = new InMemoryRateLimitStore(services.GetRequiredService<IOptions<RateLimitingOptions>>(), services.GetRequiredService<TimeProvider>(), services.GetService<AiEdgeMetrics>());
        var redis = services.GetRequiredService<IRedisConnection>();
        return redis.State == RedisConnectionState.NotConfigured
            ? local
            : new RedisRateLimitStore(redis, local, services.GetRequiredService<IOptions<RedisOptions>>().Value, services.GetService<AiEdgeMetrics>());
    }

    public static IIdempotencyStore IdempotencyStore(IServiceProvider services)
    {
        var local = AiEdgeBuilderCachingExtensions.CreateIdempotencyStore(services);
        var redis = services.GetRequiredService<IRedisConnection>();
        return redis.State == RedisConnectionState.NotConfigured
            ? local
            : new RedisIdempotencyStore(redis, local, services.GetRequiredService<IOptions<RedisOptions>>().Value, services.GetService<AiEdgeMetrics>());
    }

    /// <summary>The prediction cache's store in Redis, over the in-process store it falls back to; <see langword="null"/> (the cache's own default) when Redis is not configured.</summary>
    public static IPredictionCacheStore? PredictionCacheStore(IServiceProvider services)
    {
        var redis = services.GetRequiredService<IRedisConnection>();
        return redis.State == RedisConnectionState.NotConfigured
            ? null
            : new RedisPredictionCacheStore(
                redis,
                new InMemoryPredictionCacheStore(services.GetRequiredService<TimeProvider>()),
                services.GetRequiredService<IOptions<RedisOptions>>().Value,
                services.GetService<AiEdgeMetrics>());
    }
}
