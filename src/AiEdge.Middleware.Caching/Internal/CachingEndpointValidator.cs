using AiEdge.Middleware.Internal;
using AiEdge.Middleware.Caching;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace AiEdge.Middleware.Caching.Internal;

/// <summary>
/// Fails the application's start when an endpoint selects a prediction cache policy that is not configured,
/// naming it. It runs right after the pipeline is built, when every mapped endpoint is known.
/// </summary>
internal sealed class CachingEndpointValidator : IStartupFilter
{
    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        next(app);
        Validate(app.ApplicationServices);
    };

    private static void Validate(IServiceProvider services)
    {
        if (services.GetService<EndpointDataSource>() is not { } endpoints)
        {
            return;
        }

        var registry = services.GetRequiredService<CachePolicyRegistry>();
        foreach (var endpoint in endpoints.Endpoints)
        {
            if (endpoint.Metadata.GetMetadata<IPredictionCacheMetadata>() is { PolicyName: { } name } && !registry.Contains(name))
            {
                throw new InvalidOperationException(
                    $"Endpoint '{endpoint.DisplayName}' uses the prediction cache policy '{name}', which is not configured under AiEdge:Caching:Policies:{name}.");
            }
        }
    }
}
