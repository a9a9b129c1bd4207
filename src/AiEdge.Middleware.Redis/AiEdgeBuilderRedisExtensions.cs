using AiEdge.Middleware;
using AiEdge.Middleware.Caching;
using AiEdge.Middleware.Internal;
using AiEdge.Middleware.Redis;
using AiEdge.Middleware.Resilience;
using AiEdge.Middleware.Redis.Internal;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Puts the suite's shared state (rate limits, prediction cache, idempotency records) in Redis.</summary>
public static class AiEdgeBuilderRedisExtensions
{
    /// <summary>
    /// Connects every replica to one Redis through StackExchange.Redis, configured by <c>AiEdge:Redis</c>: the keyed
    /// <c>IConnectionMultiplexer</c> named by <c>ConnectionServiceKey</c>, else one made (and owned) from
    /// <c>Configuration</c> (a StackExchange.Redis configuration string), else the app's registered
    /// <c>IConnectionMultiplexer</c>. Moves the rate-limit and idempotency state and the prediction cache (an
    /// <see cref="IPredictionCacheStore"/>: its cross-replica coalescing lock, and its entries, kept in the app's
    /// <see cref="IDistributedCache"/> when it registered one and in AiEdge's own keys otherwise) of the AiEdge concerns
    /// to Redis, as well as the cool-downs of reverse proxy destinations (an <see cref="AiEdge.Middleware.Resilience.IBackendCooldownStore"/>,
    /// always fail-open), and adds a <c>redis</c> health check for <c>/readyz</c>. It never registers or replaces the app's
    /// <see cref="IDistributedCache"/> or <c>IConnectionMultiplexer</c>. Without any of the three connections it changes
    /// nothing: each replica keeps its state in memory, so an app can call it unconditionally. Calling it again has no
    /// further effect.
    /// </summary>
    /// <param name="edge">The AiEdge builder.</param>
    /// <param name="configure">Adjusts the options after configuration binding.</param>
    /// <returns>The builder.</returns>
    public static IAiEdgeBuilder AddRedis(this IAiEdgeBuilder edge, Action<RedisOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(edge);
        var services = edge.Services;
        edge.AddConfigurationSection<RedisOptions>(RedisDefaults.ConfigurationSection);
        var options = services.AddOptions<RedisOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        if (services.Any(static d => d.ServiceType == typeof(RedisMarker)))
        {
            return edge;
        }

        services.AddSingleton<RedisMarker>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RedisOptions>, RedisOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<RedisMetrics>();

        // The multiplexer: the keyed one AiEdge:Redis:ConnectionServiceKey names, else one made from
        // AiEdge:Redis:Configuration (private to the suite, never registered as the app's IConnectionMultiplexer, and
        // disposed with the container), else the app's own. Timeouts and backoff measure real I/O: they run on the
        // system clock even when the app's TimeProvider is a test clock.
        services.TryAddSingleton(static sp =>
        {
            var redis = sp.GetRequiredService<IOptions<RedisOptions>>().Value;
            return new RedisConnection(redis, RedisConnectionSource.From(redis, sp), sp.GetService<RedisMetrics>(), sp.GetRequiredService<ILogger<RedisConnection>>());
        });
        services.TryAddSingleton<IRedisConnection>(static sp => sp.GetRequiredService<RedisConnection>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, RedisConnectionStarter>());

        // Learns how many replicas share the limits (after the connection starter, so its first beat finds Redis).
        services.TryAddSingleton<RedisReplicaPresence>();
        services.AddSingleton<IHostedService>(static sp => sp.GetRequiredService<RedisReplicaPresence>());

        // The "redis" readiness entry exists only when Redis is configured.
        services.AddHealthChecks();
        services.AddOptions<HealthCheckServiceOptions>().Configure<IRedisConnection>(static (health, redis) =>
        {
            if (redis.State != RedisConnectionState.NotConfigured)
            {
                health.Registrations.Add(new HealthCheckRegistration(
                    "redis",
                    static sp => ActivatorUtilities.GetServiceOrCreateInstance<RedisHealthCheck>(sp),
                    failureStatus: null,
                    tags: ["ready", "redis"]));
            }
        });

        // The concerns' state: each store falls back to (and, without a configuration, simply is) the in-memory one.
        services.Replace(ServiceDescriptor.Singleton(RedisStoreRegistration.RateLimitStore));
        services.Replace(ServiceDescriptor.Singleton(RedisStoreRegistration.IdempotencyStore));
        services.Replace(ServiceDescriptor.Singleton(RedisStoreRegistration.ConcurrencyStore));
        var previousStore = services.LastOrDefault(static d => d.ServiceType == typeof(IPredictionCacheStore) && !d.IsKeyedService);
        services.Replace(ServiceDescriptor.Singleton<IPredictionCacheStore>(sp =>
            RedisStoreRegistration.PredictionCacheStore(sp) ?? Resolve<IPredictionCacheStore>(previousStore, sp)!));
        // Backend cool-downs (a reverse proxy destination's Retry-After) for every replica of the gateway.
        var previousCooldowns = services.LastOrDefault(static d => d.ServiceType == typeof(IBackendCooldownStore) && !d.IsKeyedService);
        services.Replace(ServiceDescriptor.Singleton<IBackendCooldownStore>(sp =>
            RedisStoreRegistration.CooldownStore(sp, Resolve<IBackendCooldownStore>(previousCooldowns, sp))));
        edge.AddStage<RedisFailClosedMiddleware>(RedisFailClosedMiddleware.Stage);
        return edge;
    }

    private static T? Resolve<T>(ServiceDescriptor? descriptor, IServiceProvider services)
        where T : class
        => descriptor switch
        {
            null => null,
            { ImplementationInstance: T instance } => instance,
            { ImplementationFactory: { } factory } => (T)factory(services),
            { ImplementationType: { } type } => (T)ActivatorUtilities.CreateInstance(services, type),
            _ => null,
        };

    /// <summary>Marks the registration done, so a second <c>AddRedis</c> adds nothing twice.</summary>
    private sealed class RedisMarker;
}
