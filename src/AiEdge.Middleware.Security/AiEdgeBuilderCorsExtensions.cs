using AiEdge.Middleware.Internal;
using AiEdge.Middleware;
using AiEdge.Middleware.Security;
using AiEdge.Middleware.Security.Internal;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds CORS to the AiEdge pipeline.</summary>
public static class AiEdgeBuilderCorsExtensions
{
    /// <summary>The configuration section of <see cref="EdgeCorsOptions"/>.</summary>
    public const string ConfigurationSection = "AiEdge:Cors";

    /// <summary>
    /// Answers CORS for the origins of <c>AiEdge:Cors:AllowedOrigins</c> (exact scheme, host and port, or safe
    /// subdomain patterns), with <c>Vary: Origin</c>, and answers preflights <c>204</c> at the CORS stage, before
    /// authentication and rate limiting. It builds on ASP.NET Core's CORS services (it calls
    /// <c>services.AddCors()</c>, whose name it shares on a different receiver). An allow-everything policy with
    /// credentials, in any spelling, fails the application's start.
    /// </summary>
    /// <param name="edge">The AiEdge builder.</param>
    /// <param name="configure">Adjusts the options after configuration is bound.</param>
    /// <returns>The builder.</returns>
    public static IAiEdgeBuilder AddCors(this IAiEdgeBuilder edge, Action<EdgeCorsOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(edge);
        edge.AddValidatedOptions<EdgeCorsOptions, EdgeCorsOptionsValidator>(ConfigurationSection, configure);

        edge.Services.AddCors();
        edge.Services.TryAddSingleton<SecurityMetrics>();
        edge.Services.TryAddSingleton<EdgeCorsPolicy>();
        edge.AddStage<EdgeCorsMiddleware>(AiEdgeStage.Cors);
        return edge;
    }
}
