using AiEdge.Middleware.Resilience;
using AiEdge.Middleware.ReverseProxy;
using AiEdge.Middleware.ReverseProxy.Internal;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.Transforms.Builder;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Puts AiEdge in front of a YARP reverse proxy.</summary>
public static class AiEdgeReverseProxyBuilderExtensions
{
    /// <summary>The configuration section of <see cref="AiEdgeReverseProxyOptions"/>.</summary>
    public const string ConfigurationSection = "AiEdge:ReverseProxy";

    /// <summary>The name of the passive health check policy that feeds the destinations' circuit breakers.</summary>
    public const string BreakerPolicyName = BreakerPassiveHealthPolicy.PolicyName;

    /// <summary>
    /// The name of the load-balancing policy that honours each destination's <c>Metadata:Weight</c> (NGINX's
    /// <c>weight=</c>) by smooth weighted round-robin; a destination without a weight counts as 1.
    /// </summary>
    public const string WeightedRoundRobinPolicyName = WeightedRoundRobinPolicy.PolicyName;

    /// <summary>
    /// Adds AiEdge's part of the proxy, bound from <c>AiEdge:ReverseProxy</c> and validated at startup: a circuit
    /// breaker per destination, fed by every proxied call (YARP passive health policy <c>AiEdgeBreaker</c>, set on
    /// every cluster that configures no passive health of its own), so a destination whose breaker is open is not
    /// chosen; a backend's 429 or 503 with <c>Retry-After</c> keeps its destination out that long, on every replica of
    /// the gateway that shares the <see cref="IBackendCooldownStore"/> (in memory unless one is registered, e.g. by
    /// <c>AddRedis()</c>); a backend's 5xx
    /// becomes a 502, 503 or 504 problem answer; <c>Set-Cookie</c>, <c>Server</c>, <c>X-Powered-By</c> and
    /// internal headers are not relayed; the caller's credentials are not forwarded; the load-balancing policy
    /// <c>WeightedRoundRobin</c> is available; and the readiness entry <c>reverse-proxy</c> lists every cluster and
    /// destination. Idempotent. Map the proxy with <c>app.MapAiEdgeReverseProxy()</c>.
    /// </summary>
    /// <param name="builder">The builder returned by <c>services.AddReverseProxy()</c>.</param>
    /// <param name="configure">Configures the options after configuration is bound.</param>
    /// <returns>The builder.</returns>
    public static IReverseProxyBuilder AddAiEdge(this IReverseProxyBuilder builder, Action<AiEdgeReverseProxyOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        if (services.Any(static d => d.ServiceType == typeof(DestinationBreakers)))
        {
            if (configure is not null)
            {
                services.Configure(configure);
            }

            return builder;
        }

        // Declared like every AiEdge section: unknown keys and bad values fail at startup with the others, both
        // duration syntaxes, reloads validated before they apply. Code configuration applies after the section.
        services.AddAiEdgeCore().AddConfigurationSection<AiEdgeReverseProxyOptions>(ConfigurationSection);
        if (configure is not null)
        {
            services.Configure(configure);
        }

        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<AiEdgeReverseProxyOptions>, AiEdgeReverseProxyOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<DestinationBreakers>();
        services.TryAddSingleton<IBackendCooldownStore, InMemoryBackendCooldownStore>();
        services.TryAddSingleton<SharedCooldowns>();
        services.TryAddSingleton<ProxyMetrics>();
        services.AddMetrics();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<Yarp.ReverseProxy.LoadBalancing.ILoadBalancingPolicy, WeightedRoundRobinPolicy>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IPassiveHealthCheckPolicy, BreakerPassiveHealthPolicy>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IProxyConfigFilter, AiEdgeProxyConfigFilter>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ITransformProvider, BackendResponseGuard>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ITransformProvider, StreamUsageTransform>());
        services.AddHealthChecks().AddCheck<ProxyHealthCheck>(ProxyHealthCheck.Name, tags: ["aiedge", "ready"]);
        return builder;
    }
}
