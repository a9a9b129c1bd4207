using AiEdge.Middleware.Internal;
using AiEdge.Middleware;
using AiEdge.Middleware.Security;
using AiEdge.Middleware.Security.Internal;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds security headers to the AiEdge pipeline.</summary>
public static class AiEdgeBuilderSecurityHeadersExtensions
{
    /// <summary>The configuration section of <see cref="SecurityHeadersOptions"/>.</summary>
    public const string ConfigurationSection = "AiEdge:SecurityHeaders";

    /// <summary>
    /// Sends the API security-header preset (or the configured values) on every response, errors, 404s, 413s, 429s
    /// and other short-circuits included, removes the <c>Server</c> header and sends HSTS over HTTPS only.
    /// Options are bound from <c>AiEdge:SecurityHeaders</c> and validated at startup.
    /// </summary>
    /// <param name="edge">The AiEdge builder.</param>
    /// <param name="configure">Adjusts the options, e.g. adds named policies.</param>
    /// <returns>The builder.</returns>
    public static IAiEdgeBuilder AddSecurityHeaders(this IAiEdgeBuilder edge, Action<SecurityHeadersOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(edge);
        edge.AddValidatedOptions<SecurityHeadersOptions, SecurityHeadersOptionsValidator>(ConfigurationSection, configure);

        edge.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IPostConfigureOptions<KestrelServerOptions>, KestrelServerHeaderSetup>());
        edge.Services.TryAddEnumerable(ServiceDescriptor.Transient<IStartupFilter, SecurityHeadersEndpointValidator>());
        edge.Services.TryAddSingleton<SecurityHeadersPolicies>();
        edge.AddStage<SecurityHeadersMiddleware>(AiEdgeStage.SecurityHeaders);
        return edge;
    }
}
