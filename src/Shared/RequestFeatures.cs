using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace AiEdge.Middleware.Internal;

/// <summary>
/// Feature lookups for the per-request path, through the collection's indexer. <see cref="IFeatureCollection.Get{TFeature}"/>
/// (and <c>HttpContext.GetEndpoint()</c>, which calls it) is a generic virtual method: every call goes through the
/// runtime's generic dispatch before the lookup itself, which on Kestrel's collection costs more than the lookup. The
/// indexer is an ordinary interface call with the same answer (<see cref="FeatureCollection.Get{TFeature}"/> is
/// the indexer and a cast).
/// </summary>
internal static class RequestFeatures
{
    /// <summary>Gets the feature of type <typeparamref name="T"/>, or <see langword="null"/>.</summary>
    public static T? Get<T>(HttpContext context)
        where T : class
        => (T?)context.Features[typeof(T)];

    /// <summary>Sets (or with <see langword="null"/> removes) the feature of type <typeparamref name="T"/>.</summary>
    public static void Set<T>(HttpContext context, T? feature)
        where T : class
        => context.Features[typeof(T)] = feature;

    /// <summary>Gets the request's endpoint, as <c>HttpContext.GetEndpoint()</c> does.</summary>
    public static Endpoint? Endpoint(HttpContext context)
        => ((IEndpointFeature?)context.Features[typeof(IEndpointFeature)])?.Endpoint;
}
