using AiEdge.Middleware.Internal;
using AiEdge.Middleware.Security;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Per-endpoint request body limits.</summary>
public static class BodyLimitEndpointConventionBuilderExtensions
{
    /// <summary>
    /// Limits the endpoints' request bodies to <paramref name="size"/>, written as NGINX writes sizes
    /// (<c>"1m"</c>, <c>"512k"</c>, <c>"100m"</c>, bytes). Larger bodies are answered <c>413</c> problem details:
    /// before reading when <c>Content-Length</c> says so, else as soon as the body crosses the limit. A limit
    /// declares the 413 <c>application/problem+json</c> response for OpenAPI.
    /// </summary>
    /// <typeparam name="TBuilder">The endpoint convention builder.</typeparam>
    /// <param name="builder">The endpoints.</param>
    /// <param name="size">The limit.</param>
    /// <returns>The builder.</returns>
    /// <exception cref="ArgumentException"><paramref name="size"/> is not a size.</exception>
    public static TBuilder WithBodyLimit<TBuilder>(this TBuilder builder, string size)
        where TBuilder : IEndpointConventionBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        var metadata = new BodyLimitAttribute(size);
        builder.Add(endpoint =>
        {
            endpoint.Metadata.Add(metadata);
            if (metadata.MaxRequestBodySize is not null)
            {
                ProblemResponses.Add(endpoint, ProblemResponses.PayloadTooLarge);
            }
        });
        return builder;
    }

    /// <summary>Removes the body limit of the endpoints (NGINX's <c>client_max_body_size 0</c>), Kestrel's included.</summary>
    /// <typeparam name="TBuilder">The endpoint convention builder.</typeparam>
    /// <param name="builder">The endpoints.</param>
    /// <returns>The builder.</returns>
    public static TBuilder DisableBodyLimit<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder
        => builder.WithBodyLimit("0");
}
