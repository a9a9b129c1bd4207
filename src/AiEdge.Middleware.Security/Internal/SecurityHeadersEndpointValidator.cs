using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace AiEdge.Middleware.Security.Internal;

/// <summary>Fails the application's start when an endpoint names a security headers policy that does not exist.</summary>
internal sealed class SecurityHeadersEndpointValidator(IServiceProvider services) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var policies = services.GetRequiredService<SecurityHeadersPolicies>();
        var endpoints = services.GetService<EndpointDataSource>();
        if (endpoints is null)
        {
            return Task.CompletedTask;
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

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
