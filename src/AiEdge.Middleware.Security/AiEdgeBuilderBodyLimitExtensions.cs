using AiEdge.Middleware.Internal;
using AiEdge.Middleware;
using AiEdge.Middleware.Security;
using AiEdge.Middleware.Security.Internal;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds request body limits to the AiEdge pipeline.</summary>
public static class AiEdgeBuilderBodyLimitExtensions
{
    /// <summary>The configuration section of <see cref="BodyLimitOptions"/>.</summary>
    public const string ConfigurationSection = "AiEdge:BodyLimits";

    /// <summary>
    /// Limits request bodies: <c>AiEdge:BodyLimits:Default</c> (<c>10m</c>) everywhere, and per endpoint with
    /// <c>.WithBodyLimit("1m")</c> or <see cref="BodyLimitAttribute"/>. Too large bodies get <c>413</c>
    /// <c>application/problem+json</c>: before the body is read when <c>Content-Length</c> is too large, and as soon
    /// as a chunked body crosses the limit.
    /// </summary>
    /// <param name="edge">The AiEdge builder.</param>
    /// <param name="configure">Adjusts the options after configuration is bound.</param>
    /// <returns>The builder.</returns>
    public static IAiEdgeBuilder AddBodyLimits(this IAiEdgeBuilder edge, Action<BodyLimitOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(edge);
        edge.AddValidatedOptions<BodyLimitOptions, BodyLimitOptionsValidator>(ConfigurationSection, configure);

        edge.Services.TryAddSingleton<SecurityMetrics>();
        edge.AddStage<BodyLimitMiddleware>(AiEdgeStage.BodyLimits);
        return edge;
    }
}
