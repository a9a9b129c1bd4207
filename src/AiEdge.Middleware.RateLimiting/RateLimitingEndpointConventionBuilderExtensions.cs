using AiEdge.Middleware.Internal;
using AiEdge.Middleware.RateLimiting;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Attaches rate-limit tiers to endpoints.</summary>
public static class RateLimitingEndpointConventionBuilderExtensions
{
    /// <summary>
    /// Limits the endpoints by the tier <paramref name="tier"/> (configured under <c>AiEdge:RateLimiting:Tiers</c>).
    /// Call it again to add further tiers; a request must pass every one. An unknown name fails at startup. The
    /// endpoints declare a 429 <c>application/problem+json</c> response for OpenAPI (as <c>ProducesProblem(429)</c>
    /// does), unless they declare one themselves.
    /// </summary>
    /// <typeparam name="TBuilder">The endpoint convention builder.</typeparam>
    /// <param name="builder">The endpoint or group.</param>
    /// <param name="tier">The tier's name.</param>
    /// <returns>The builder.</returns>
    public static TBuilder WithRateLimitTier<TBuilder>(this TBuilder builder, string tier)
        where TBuilder : IEndpointConventionBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(tier);
        var metadata = new RateLimitTierAttribute(tier);
        builder.Add(endpoint =>
        {
            endpoint.Metadata.Add(metadata);
            ProblemResponses.Add(endpoint, ProblemResponses.TooManyRequests);
        });
        return builder;
    }

    /// <summary>Exempts the endpoints from every rate-limit tier, including tiers of an enclosing group.</summary>
    /// <typeparam name="TBuilder">The endpoint convention builder.</typeparam>
    /// <param name="builder">The endpoint or group.</param>
    /// <returns>The builder.</returns>
    public static TBuilder DisableRateLimitTiers<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        var metadata = new DisableRateLimitTiersAttribute();
        builder.Add(endpoint => endpoint.Metadata.Add(metadata));
        return builder;
    }
}
