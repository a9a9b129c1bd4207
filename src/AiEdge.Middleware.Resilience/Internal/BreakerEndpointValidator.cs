using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace AiEdge.Middleware.Resilience.Internal;

/// <summary>
/// Fails startup when an endpoint names a circuit breaker that is not configured, naming both. Runs as the
/// pipeline is built, once every endpoint data source is known.
/// </summary>
internal sealed class BreakerEndpointValidator : IStartupFilter
{
    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next)
        => app =>
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

        var breakers = services.GetRequiredService<IOptions<ResilienceOptions>>().Value.Breakers;
        foreach (var endpoint in endpoints.Endpoints)
        {
            if (endpoint.Metadata.GetMetadata<ICircuitBreakerMetadata>() is { } metadata && !breakers.ContainsKey(metadata.BreakerName))
            {
                throw new OptionsValidationException("AiEdge:Resilience", typeof(ResilienceOptions),
                    ["AiEdge:Resilience:Breakers:" + metadata.BreakerName + " is not configured, but endpoint '" + endpoint.DisplayName + "' uses circuit breaker '" + metadata.BreakerName + "'."]);
            }
        }
    }
}
