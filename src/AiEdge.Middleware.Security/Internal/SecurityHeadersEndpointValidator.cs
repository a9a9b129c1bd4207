using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace AiEdge.Middleware.Security.Internal;

/// <summary>
/// Fails the application's start when an endpoint names a security headers policy that does not exist. It runs
/// right after the pipeline is built, when every mapped endpoint is known.
/// </summary>
internal sealed class SecurityHeadersEndpointValidator : IStartupFilter
{
    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        next(app);
        Validate(app.ApplicationServices);
    };

    private static void Validate(IServiceProvider services)
    {
        var policies = services.GetRequiredService<SecurityHeadersPolicies>();
        if (services.GetService<EndpointDataSource>() is not { } endpoints)
        {
            return;
        }

        foreach (var endpoint in endpoints.Endpoints)
        {
            if (endpoint.Metadata.GetMetadata<ISecurityHeadersPolicyMetadata>() is { } metadata && !policies.Contains(metadata.PolicyName))
            {
                throw new InvalidOperationException(
                    $"Endpoint '{endpoint.DisplayName}' uses the security headers policy '{metadata.PolicyName}', which is not registered: " +
                    $"add it with edge.AddSecurityHeaders(options => options.AddPolicy(\"{metadata.PolicyName}\", ...)).");
            }
        }
    }
}
