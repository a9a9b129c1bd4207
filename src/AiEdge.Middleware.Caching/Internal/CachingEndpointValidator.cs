using AiEdge.Middleware.Caching;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace AiEdge.Middleware.Internal;

/// <summary>Fails startup when an endpoint selects a cache policy that is not configured, naming it.</summary>
internal sealed class CachingEndpointValidator(IServiceProvider services) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var registry = services.GetRequiredService<CachePolicyRegistry>();
        foreach (var source in services.GetServices<EndpointDataSource>())
        {
            Check(source, registry);
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private static void Check(EndpointDataSource source, CachePolicyRegistry registry)
    {
        foreach (var endpoint in source.Endpoints)
        {
            if (endpoint.Metadata.GetMetadata<IPredictionCacheMetadata>() is { PolicyName: { } name } && !registry.Contains(name))
            {
                throw new InvalidOperationException(
                    $"Endpoint '{endpoint.DisplayName}' uses the prediction cache policy '{name}', which is not configured under AiEdge:Caching:Policies:{name}.");
            }
        }
    }
}
