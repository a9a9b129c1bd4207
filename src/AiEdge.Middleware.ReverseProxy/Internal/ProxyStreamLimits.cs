using AiEdge.Middleware.Internal;
using Yarp.ReverseProxy.Configuration;

namespace AiEdge.Middleware.ReverseProxy.Internal;

/// <summary>
/// The timeouts a route sets through its metadata (<see cref="AiEdgeRouteMetadata.FirstByteTimeout"/>,
/// <see cref="AiEdgeRouteMetadata.IdleTimeout"/>, <see cref="AiEdgeRouteMetadata.TotalTimeout"/>), parsed once when
/// its endpoint is built and kept as endpoint metadata; <see langword="null"/> takes <c>AiEdge:ReverseProxy:Streams</c>'s.
/// </summary>
internal sealed class ProxyStreamLimits
{
    public TimeSpan? FirstByte { get; private init; }

    public TimeSpan? Idle { get; private init; }

    public TimeSpan? Total { get; private init; }

    /// <summary>Reads the route's timeouts; <see langword="null"/> when it sets none. An invalid value fails, naming the route and key.</summary>
    public static ProxyStreamLimits? From(RouteConfig route)
    {
        var firstByte = Parse(route, AiEdgeRouteMetadata.FirstByteTimeout);
        var idle = Parse(route, AiEdgeRouteMetadata.IdleTimeout);
        var total = Parse(route, AiEdgeRouteMetadata.TotalTimeout);
        return firstByte is null && idle is null && total is null ? null : new ProxyStreamLimits { FirstByte = firstByte, Idle = idle, Total = total };
    }

    private static TimeSpan? Parse(RouteConfig route, string key)
    {
        if (route.Metadata is null || !route.Metadata.TryGetValue(key, out var text) || string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        if (string.Equals(text.Trim(), "off", StringComparison.OrdinalIgnoreCase))
        {
            return TimeSpan.Zero;
        }

        return AiEdgeDuration.TryParse(text, out var value) && value > TimeSpan.Zero && AiEdgeReverseProxyOptionsValidator.IsValidTimeout(value)
            ? value
            : throw new InvalidOperationException("ReverseProxy:Routes:" + route.RouteId + ":Metadata:" + key + " must be \"off\" or "
                + AiEdgeDuration.Description + " from 1 ms to 1 day (was \"" + text + "\").");
    }
}
