using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy;
using Yarp.ReverseProxy.Model;

namespace AiEdge.Middleware.ReverseProxy.Internal;

/// <summary>
/// The readiness entry <c>reverse-proxy</c>: every cluster (<c>"{cluster}": "3 of 3 destinations available"</c>) and
/// every destination (<c>"{cluster}/{destination}"</c>: <c>available</c>, or why not: active or passive health,
/// <c>breaker_open</c>). Healthy when every destination is available, Degraded when some are out, and
/// <see cref="AiEdgeReverseProxyOptions.UnavailableClusterStatus"/> when a cluster has none.
/// </summary>
internal sealed class ProxyHealthCheck(IProxyStateLookup state, DestinationBreakers breakers, IOptions<AiEdgeReverseProxyOptions> options) : IHealthCheck
{
    public const string Name = "reverse-proxy";

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var data = new Dictionary<string, object>(StringComparer.Ordinal);
        var status = HealthStatus.Healthy;
        var clusters = 0;
        foreach (var cluster in state.GetClusters())
        {
            clusters++;
            var available = cluster.DestinationsState is { } destinations ? breakers.Available(destinations.AvailableDestinations).Count : 0;
            var total = cluster.Destinations.Count;
            foreach (var destination in cluster.Destinations.Values)
            {
                data[cluster.ClusterId + "/" + destination.DestinationId] = Describe(destination);
            }

            data[cluster.ClusterId] = available.ToString(System.Globalization.CultureInfo.InvariantCulture) + " of "
                + total.ToString(System.Globalization.CultureInfo.InvariantCulture) + " destinations available";
            if (available == 0 && total > 0)
            {
                status = Worse(status, options.Value.UnavailableClusterStatus);
            }
            else if (available < total)
            {
                status = Worse(status, HealthStatus.Degraded);
            }
        }

        var description = clusters.ToString(System.Globalization.CultureInfo.InvariantCulture) + " reverse-proxy clusters.";
        return Task.FromResult(new HealthCheckResult(status, description, data: data));
    }

    private string Describe(DestinationState destination)
    {
        if (breakers.Find(destination) is { State: not Polly.CircuitBreaker.CircuitState.Closed } breaker)
        {
            return breaker.State == Polly.CircuitBreaker.CircuitState.HalfOpen ? "breaker_half_open" : "breaker_open";
        }

        return destination.Health.Active == DestinationHealth.Unhealthy ? "active_check_failing"
            : destination.Health.Passive == DestinationHealth.Unhealthy ? "cooling_down"
            : "available";
    }

    private static HealthStatus Worse(HealthStatus a, HealthStatus b) => a < b ? a : b;
}
