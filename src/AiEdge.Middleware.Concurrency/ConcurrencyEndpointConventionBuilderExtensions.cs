using AiEdge.Middleware.Concurrency;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Attaches concurrency tiers to endpoints.</summary>
public static class ConcurrencyEndpointConventionBuilderExtensions
{
    /// <summary>
    /// Caps the requests of the endpoints in flight by the tier <paramref name="tier"/> (configured under
    /// <c>AiEdge:Concurrency:Tiers</c>); a request holds its slot until the endpoint returns (a streamed response: until
    /// the stream ends). An unknown name fails at startup.
    /// </summary>
    /// <typeparam name="TBuilder">The endpoint convention builder.</typeparam>
    /// <param name="builder">The endpoint or group.</param>
    /// <param name="tier">The tier's name.</param>
    /// <returns>The builder.</returns>
    public static TBuilder WithConcurrencyTier<TBuilder>(this TBuilder builder, string tier)
        where TBuilder : IEndpointConventionBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(tier);
        var metadata = new ConcurrencyTierAttribute(tier);
        builder.Add(endpoint => endpoint.Metadata.Add(metadata));
        return builder;
    }

    /// <summary>Exempts the endpoints from the concurrency tier of an enclosing group.</summary>
    /// <typeparam name="TBuilder">The endpoint convention builder.</typeparam>
    /// <param name="builder">The endpoint or group.</param>
    /// <returns>The builder.</returns>
    public static TBuilder DisableConcurrencyTier<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        var metadata = new DisableConcurrencyTierAttribute();
        builder.Add(endpoint => endpoint.Metadata.Add(metadata));
        return builder;
    }
}
