using AiEdge.Middleware.Caching;
using AiEdge.Middleware.Caching.Internal;
using AiEdge.Middleware.Internal;
using AiEdge.Middleware.RateLimiting;
using Microsoft.Extensions.DependencyInjection;
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
        return redis.State == RedisConnectionState.NotConfigured
            ? local
            : new RedisRateLimitStore(redis, local, services.GetRequiredService<IOptions<RedisOptions>>().Value, services.GetService<RedisMetrics>());
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

    public static ICacheLock CacheLock(IServiceProvider services)
    {
        var local = new InMemoryCacheLock(services.GetRequiredService<TimeProvider>());
        var redis = services.GetRequiredService<IRedisConnection>();
        return redis.State == RedisConnectionState.NotConfigured
            ? local
            : new RedisCacheLock(redis, local, services.GetRequiredService<IOptions<RedisOptions>>().Value, services.GetService<RedisMetrics>());
    }
}
