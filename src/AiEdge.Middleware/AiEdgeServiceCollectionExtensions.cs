using AiEdge.Middleware;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the whole AiEdge.Middleware suite.</summary>
public static class AiEdgeMetaServiceCollectionExtensions
{
    /// <summary>
    /// Registers AiEdge with its safe defaults and lets <paramref name="configure"/> add further concerns.
    /// The defaults: RFC 9457 problem details for every error the suite produces, forwarded headers trusting
    /// loopback proxies only, the API security-header preset and the <c>/healthz</c> and <c>/readyz</c> endpoints.
    /// Every option is also bound from the <c>AiEdge</c> configuration section.
    /// </summary>
    /// <param name="services">The application's services.</param>
    /// <param name="configure">Adds and configures concerns, e.g. <c>edge =&gt; edge.AddRateLimiting()</c>.</param>
    /// <returns>The AiEdge builder.</returns>
    public static IAiEdgeBuilder AddAiEdge(this IServiceCollection services, Action<IAiEdgeBuilder>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var edge = services.AddAiEdgeCore();
        AddDefaults(edge);
        configure?.Invoke(edge);
        return edge;
    }

    private static void AddDefaults(IAiEdgeBuilder edge)
    {
        // Each default concern registers itself here as its package arrives.
        edge.AddForwardedHeaders();
        edge.AddSecurityHeaders();
        edge.AddHealth();
    }
}
