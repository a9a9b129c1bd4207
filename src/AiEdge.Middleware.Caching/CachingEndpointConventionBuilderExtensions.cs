using AiEdge.Middleware.Caching;
using AiEdge.Middleware.Internal;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Opts endpoints into prediction caching and Idempotency-Key handling.</summary>
public static class CachingEndpointConventionBuilderExtensions
{
    private static readonly PredictionCacheAttribute DefaultCache = new();
    private static readonly IdempotentAttribute OptionalIdempotency = new();
    private static readonly IdempotentAttribute RequiredIdempotency = new() { Required = true };

    /// <summary>
    /// Caches the endpoint's responses keyed on the canonical request (method, path, query, JSON body, vary-by
    /// headers and the caller's partition). Declare it only on deterministic endpoints.
    /// </summary>
    /// <typeparam name="TBuilder">The endpoint convention builder.</typeparam>
    /// <param name="builder">The endpoint or group.</param>
    /// <param name="policyName">A policy of <c>AiEdge:Caching:Policies</c>, or <see langword="null"/> for the defaults; an unknown name fails at startup.</param>
    /// <returns>The builder.</returns>
    public static TBuilder WithPredictionCache<TBuilder>(this TBuilder builder, string? policyName = null)
        where TBuilder : IEndpointConventionBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        var metadata = policyName is null ? DefaultCache : new PredictionCacheAttribute(policyName);
        builder.Add(endpoint => endpoint.Metadata.Add(metadata));
        return builder;
    }

    /// <summary>
    /// Honours the <c>Idempotency-Key</c> header on the endpoint's POST and PATCH requests: a retry with the same key
    /// and payload replays the first response; the same key with another payload is refused with 422; a retry while
    /// the first still runs with 409. The endpoints declare these 409 and 422 <c>application/problem+json</c> responses
    /// for OpenAPI (and 400 when a key is required).
    /// </summary>
    /// <typeparam name="TBuilder">The endpoint convention builder.</typeparam>
    /// <param name="builder">The endpoint or group.</param>
    /// <param name="required">Whether requests without a key are refused with 400.</param>
    /// <returns>The builder.</returns>
    public static TBuilder WithIdempotency<TBuilder>(this TBuilder builder, bool required = false)
        where TBuilder : IEndpointConventionBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        var metadata = required ? RequiredIdempotency : OptionalIdempotency;
        builder.Add(endpoint =>
        {
            endpoint.Metadata.Add(metadata);
            if (metadata.Required)
            {
                ProblemResponses.Add(endpoint, ProblemResponses.BadRequest);
            }

            ProblemResponses.Add(endpoint, ProblemResponses.Conflict);
            ProblemResponses.Add(endpoint, ProblemResponses.UnprocessableEntity);
        });
        return builder;
    }
}
