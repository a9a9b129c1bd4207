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
    /// cache status, rate-limit decision and tier, and trace id, then the fields packages added with
    /// <see cref="AddAccessLogField"/>. Runs first in the pipeline
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

    /// <summary>
    /// Adds <paramref name="field"/> to every access-log line (after Core's fields) of the requests that recorded it.
    /// A package calls it when it is added, so its decisions show in the access log with no change to Core. It is
    /// harmless without <see cref="AddAccessLog"/> (nothing is written), and a second field of the same
    /// <see cref="AccessLogField.Name"/> is ignored, so calling it again adds nothing.
    /// </summary>
    /// <param name="edge">The AiEdge builder.</param>
    /// <param name="field">The field, e.g. <c>AccessLogField.Text("conc", "aiedge.concurrency.decision")</c>.</param>
    /// <returns>The builder.</returns>
    public static IAiEdgeBuilder AddAccessLogField(this IAiEdgeBuilder edge, AccessLogField field)
    {
        ArgumentNullException.ThrowIfNull(edge);
        ArgumentNullException.ThrowIfNull(field);
        foreach (var descriptor in edge.Services)
        {
            if (descriptor.ServiceType == typeof(AccessLogField) && descriptor.ImplementationInstance is AccessLogField existing
                && string.Equals(existing.Name, field.Name, StringComparison.Ordinal))
            {
                return edge;
            }
        }

        edge.Services.AddSingleton(field);
        return edge;
    }
}
