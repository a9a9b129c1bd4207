using Yarp.ReverseProxy.Configuration;

namespace AiEdge.Middleware.ReverseProxy.Internal;

/// <summary>
/// Plugs the destinations' breakers into every cluster that does not configure passive health itself: passive
/// health on, policy <c>AiEdgeBreaker</c>, so YARP's available-destinations policy skips a destination whose breaker
/// is open. Routes' timeout metadata is checked as the configuration loads.
/// </summary>
internal sealed class AiEdgeProxyConfigFilter : IProxyConfigFilter
{
    public ValueTask<ClusterConfig> ConfigureClusterAsync(ClusterConfig cluster, CancellationToken cancel)
    {
        if (cluster.HealthCheck?.Passive is not null)
        {
            return ValueTask.FromResult(cluster);
        }

        var health = (cluster.HealthCheck ?? new HealthCheckConfig()) with
        {
            Passive = new PassiveHealthCheckConfig { Enabled = true, Policy = BreakerPassiveHealthPolicy.PolicyName },
        };
        return ValueTask.FromResult(cluster with { HealthCheck = health });
    }

    /// <summary>Checks the route's timeouts when the configuration loads, so an invalid one fails at startup, naming the route and key.</summary>
    public ValueTask<RouteConfig> ConfigureRouteAsync(RouteConfig route, ClusterConfig? cluster, CancellationToken cancel)
    {
        _ = ProxyStreamLimits.From(route);
        return ValueTask.FromResult(route);
    }
}
