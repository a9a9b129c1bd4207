using AiEdge.Middleware.Internal;
using AiEdge.Middleware;
using AiEdge.Middleware.ForwardedHeaders;
using AiEdge.Middleware.ForwardedHeaders.Internal;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds forwarded-header normalization to the AiEdge builder.</summary>
public static class AiEdgeBuilderForwardedHeadersExtensions
{
    /// <summary>The configuration section of the options.</summary>
    public const string ConfigurationSection = "AiEdge:ForwardedHeaders";

    /// <summary>
    /// Normalizes the client address, scheme, host and path base from forwarded headers sent by trusted proxies
    /// (loopback only unless configured), and exposes the result as <see cref="IResolvedClientFeature"/>.
    /// Options are bound from <c>AiEdge:ForwardedHeaders</c> and validated at startup.
    /// </summary>
    /// <param name="edge">The AiEdge builder.</param>
    /// <param name="configure">Configures the options after configuration is bound.</param>
    /// <returns>The builder.</returns>
    public static IAiEdgeBuilder AddForwardedHeaders(this IAiEdgeBuilder edge, Action<EdgeForwardedHeadersOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(edge);
        edge.AddValidatedOptions<EdgeForwardedHeadersOptions, EdgeForwardedHeadersOptionsValidator>(ConfigurationSection, configure);

        edge.Services.TryAddSingleton<ForwardedHeadersResolver>();
        edge.AddStage<ForwardedHeadersNormalizationMiddleware>(AiEdgeStage.ForwardedHeaders);
        return edge;
    }
}
