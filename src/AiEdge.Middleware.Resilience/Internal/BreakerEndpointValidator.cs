using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace AiEdge.Middleware.Resilience.Internal;

/// <summary>Fails startup when an endpoint names a circuit breaker that is not configured, naming both.</summary>
internal sealed class BreakerEndpointValidator(IServiceProvider services, IOptions<ResilienceOptions> options) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var endpoints = services.GetService<EndpointDataSource>();
        if (endpoints is null)
        {
            return Task.CompletedTask;
        }

        var breakers = options.Value.Breakers;
        foreach (var endpoint in endpoints.Endpoints)
        {
            if (endpoint.Metadata.GetMetadata<ICircuitBreakerMetadata>() is { } metadata && !breakers.ContainsKey(metadata.BreakerName))
            {
                throw new OptionsValidationException("AiEdge:Resilience", typeof(ResilienceOptions),
                    ["AiEdge:Resilience:Breakers:" + metadata.BreakerName + " is not configured, but endpoint '" + endpoint.DisplayName + "' uses circuit breaker '" + metadata.BreakerName + "'."]);
            }
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
