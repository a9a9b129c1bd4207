using AiEdge.Middleware;
using AiEdge.Middleware.Health;
using AiEdge.Middleware.Health.Internal;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds the liveness and readiness endpoints to AiEdge.</summary>
public static class AiEdgeBuilderHealthExtensions
{
    /// <summary>The configuration section of the health options.</summary>
    public const string ConfigurationSection = "AiEdge:Health";

    /// <summary>
    /// Serves <c>/healthz</c> (liveness) and <c>/readyz</c> (readiness over every ASP.NET Core health check: Redis
    /// when configured, every circuit breaker, and every check the application registered with
    /// <c>AddHealthChecks()</c>). They answer at the Health stage, before authentication, rate limiting and caching,
    /// so probes are never refused, limited or cached. Paths and status codes from <c>AiEdge:Health</c>.
    /// </summary>
    /// <param name="edge">The AiEdge builder.</param>
    /// <param name="configure">Configures the options after configuration is bound.</param>
    /// <returns>The builder.</returns>
    public static IAiEdgeBuilder AddHealth(this IAiEdgeBuilder edge, Action<EdgeHealthOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(edge);
        var options = edge.Services.AddOptions<EdgeHealthOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        if (edge.HasStage(typeof(HealthMiddleware).FullName!))
        {
            return edge;
        }

        options.BindConfiguration(ConfigurationSection).ValidateOnStart();
        edge.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<EdgeHealthOptions>, EdgeHealthOptionsValidator>());
        edge.Services.TryAddSingleton(TimeProvider.System);
        edge.Services.AddHealthChecks();
        edge.Services.TryAddSingleton<ReadinessCache>();
        edge.AddStage<HealthMiddleware>(AiEdgeStage.Health);
        return edge;
    }
}
