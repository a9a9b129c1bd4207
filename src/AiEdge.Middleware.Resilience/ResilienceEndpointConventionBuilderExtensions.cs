using AiEdge.Middleware.Internal;
using AiEdge.Middleware.Resilience;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Protects endpoints with circuit breakers.</summary>
public static class ResilienceEndpointConventionBuilderExtensions
{
    /// <summary>
    /// Protects the endpoints with the circuit breaker <paramref name="breakerName"/> (an entry of
    /// <c>AiEdge:Resilience:Breakers</c>): while it is open, requests are answered 503 with <c>Retry-After</c> at
    /// once; failures of the handler (an exception or a 5xx status) are counted; a handler exceeding the breaker's
    /// <c>AttemptTimeout</c> is answered 504. An unknown name fails at startup. The endpoints declare the 503
    /// <c>application/problem+json</c> response for OpenAPI.
    /// </summary>
    /// <typeparam name="TBuilder">The endpoint convention builder type.</typeparam>
    /// <param name="builder">The endpoint or group.</param>
    /// <param name="breakerName">The breaker's name.</param>
    /// <returns>The builder.</returns>
    public static TBuilder WithCircuitBreaker<TBuilder>(this TBuilder builder, string breakerName)
        where TBuilder : IEndpointConventionBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(breakerName);
        var metadata = new CircuitBreakerAttribute(breakerName);
        builder.Add(endpoint =>
        {
            endpoint.Metadata.Add(metadata);
            ProblemResponses.Add(endpoint, ProblemResponses.ServiceUnavailable);
        });
        return builder;
    }
}
