using AiEdge.Middleware.Internal;
using AiEdge.Middleware;
using AiEdge.Middleware.AccessLog.Internal;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds the structured access log to the AiEdge builder.</summary>
public static class AiEdgeBuilderAccessLogExtensions
{
    /// <summary>The configuration section of the options.</summary>
    public const string ConfigurationSection = "AiEdge:AccessLog";

    /// <summary>
    /// Writes one structured event per request to the <see cref="AccessLogOptions.Category"/> logger at
    /// <c>Information</c>: normalized client IP, method, route pattern, status, total and backend time, bytes sent,
    /// cache status, rate-limit decision and tier, and trace id. Runs first in the pipeline
    /// (<see cref="AiEdgeStage.Diagnostics"/>) so it observes every outcome.
    /// </summary>
    /// <param name="edge">The AiEdge builder.</param>
    /// <param name="configure">Configures the options after configuration is bound.</param>
    /// <returns>The builder.</returns>
    public static IAiEdgeBuilder AddAccessLog(this IAiEdgeBuilder edge, Action<AccessLogOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(edge);
        edge.AddValidatedOptions<AccessLogOptions, AccessLogOptionsValidator>(ConfigurationSection, configure);

        edge.Services.TryAddSingleton(TimeProvider.System);
        edge.AddStage<AccessLogMiddleware>(AiEdgeStage.Diagnostics);
        return edge;
    }
}
