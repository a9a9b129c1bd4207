using Microsoft.AspNetCore.Builder;
using Yarp.ReverseProxy.Configuration;

namespace AiEdge.Middleware.ReverseProxy.Internal;

/// <summary>Applies the <see cref="AiEdgeRouteMetadata"/> keys of a YARP route to its endpoint, once, when it is built.</summary>
internal static class RouteMetadataConvention
{
    private static readonly char[] Separators = [' ', ','];

    public static void Apply(IEndpointConventionBuilder endpoint, RouteConfig route)
    {
        var metadata = route.Metadata;
        if (metadata is null || metadata.Count == 0)
        {
            return;
        }

        if (Value(metadata, AiEdgeRouteMetadata.RateLimitTier) is { } tier)
        {
            endpoint.WithRateLimitTier(tier);
        }

        if (Flag(route, AiEdgeRouteMetadata.RequireAuthenticatedCaller))
        {
            endpoint.RequireAuthenticatedCaller();
        }

        if (Value(metadata, AiEdgeRouteMetadata.RequireScopes) is { } scopes)
        {
            endpoint.RequireScopes(scopes.Split(Separators, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        }

        if (Value(metadata, AiEdgeRouteMetadata.BodyLimit) is { } limit)
        {
            if (string.Equals(limit, "off", StringComparison.OrdinalIgnoreCase))
            {
                endpoint.DisableBodyLimit();
            }
            else
            {
                endpoint.WithBodyLimit(limit);
            }
        }

        if (Value(metadata, AiEdgeRouteMetadata.PredictionCache) is { } cache)
        {
            endpoint.WithPredictionCache(string.Equals(cache, "default", StringComparison.OrdinalIgnoreCase) ? null : cache);
        }

        if (Value(metadata, AiEdgeRouteMetadata.Idempotency) is { } idempotency)
        {
            if (string.Equals(idempotency, "required", StringComparison.OrdinalIgnoreCase))
            {
                endpoint.WithIdempotency(required: true);
            }
            else if (Flag(route, AiEdgeRouteMetadata.Idempotency))
            {
                endpoint.WithIdempotency();
            }
        }

        if (Flag(route, AiEdgeRouteMetadata.Streaming))
        {
            endpoint.WithStreaming();
        }

        if (ProxyStreamLimits.From(route) is { } limits)
        {
            endpoint.Add(builder => builder.Metadata.Add(limits));
        }
    }

    private static string? Value(IReadOnlyDictionary<string, string> metadata, string key)
        => metadata.TryGetValue(key, out var value) && !string.IsNullOrWhiteSpace(value) ? value.Trim() : null;

    private static bool Flag(RouteConfig route, string key)
    {
        if (Value(route.Metadata!, key) is not { } value)
        {
            return false;
        }

        return bool.TryParse(value, out var flag)
            ? flag
            : throw new InvalidOperationException("ReverseProxy:Routes:" + route.RouteId + ":Metadata:" + key + " must be \"true\" or \"false\" (was \"" + value + "\").");
    }
}
