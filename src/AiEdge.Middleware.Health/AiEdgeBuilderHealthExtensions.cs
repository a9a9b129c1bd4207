using AiEdge.Middleware;
using AiEdge.Middleware.Health;
using AiEdge.Middleware.Health.Internal;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds the liveness and readiness endpoints to AiEdge.</summary>
public static class AiEdgeBuilderHealthExtensions
{
    // Set by UseRouting() to the route builder its EndpointRoutingMiddleware matches against.
    private const string EndpointRouteBuilderKey = "__EndpointRouteBuilder";

    /// <summary>The configuration section of the health options.</summary>
    public const string ConfigurationSection = "AiEdge:Health";

    /// <summary>
    /// Serves <c>/healthz</c> (liveness) and <c>/readyz</c> (readiness over every ASP.NET Core health check: Redis
    /// when configured, every circuit breaker, and every check the application registered with
    /// <c>AddHealthChecks()</c>) as routed ASP.NET Core health-check endpoints, which <c>UseAiEdge()</c> maps (unless
    /// <c>AiEdge:Health:MapEndpoints</c> is <see langword="false"/>; then <c>app.MapAiEdgeHealth()</c> maps them). They
    /// run at the Health stage, before authentication, rate limiting and caching, so probes are never refused,
    /// limited or cached. Paths and status codes from <c>AiEdge:Health</c>. An application endpoint on a probe path
    /// fails startup, naming the path and the setting to change.
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

        edge.AddConfigurationSection<EdgeHealthOptions>(ConfigurationSection);
        edge.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<EdgeHealthOptions>, EdgeHealthOptionsValidator>());
        edge.Services.TryAddSingleton(TimeProvider.System);
        edge.Services.AddHealthChecks();
        edge.Services.TryAddSingleton<ReadinessCache>();
        edge.Services.TryAddSingleton<HealthEndpointRegistry>();
        edge.AddStage(AiEdgeStage.Health, typeof(HealthMiddleware).FullName!, static app => ApplyStage(app));
        return edge;
    }

    /// <summary>Maps the probes on the route builder routing matches against (unless the app maps them), then the stage.</summary>
    private static void ApplyStage(IApplicationBuilder app)
    {
        if (app.ApplicationServices.GetRequiredService<IOptions<EdgeHealthOptions>>().Value.MapEndpoints)
        {
            var endpoints = (app.Properties.TryGetValue(EndpointRouteBuilderKey, out var routes) ? routes as IEndpointRouteBuilder : null)
                ?? app as IEndpointRouteBuilder
                ?? throw new InvalidOperationException(
                    "UseAiEdge() found no endpoint routing to map the health endpoints on: set AiEdge:Health:MapEndpoints to false and map them with app.MapAiEdgeHealth().");
            endpoints.MapAiEdgeHealth();
        }

        app.UseMiddleware<HealthMiddleware>();
    }
}
