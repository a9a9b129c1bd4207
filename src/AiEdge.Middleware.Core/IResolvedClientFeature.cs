using System.Net;
using Microsoft.AspNetCore.Http;

namespace AiEdge.Middleware;

/// <summary>
/// The caller as forwarded-header normalization resolved it, with the values the connection carried before.
/// The resolved values are also applied to <see cref="ConnectionInfo.RemoteIpAddress"/>, <see cref="HttpRequest.Scheme"/>,
/// <see cref="HttpRequest.Host"/> and <see cref="HttpRequest.PathBase"/>; this feature keeps the originals for diagnostics.
/// </summary>
public interface IResolvedClientFeature
{
    /// <summary>Gets the resolved client address.</summary>
    IPAddress? RemoteIpAddress { get; }

    /// <summary>Gets the address of the directly connected peer (the nearest proxy, or the client itself).</summary>
    IPAddress? PeerIpAddress { get; }

    /// <summary>Gets the number of forwarded hops that were applied (0 when the request was not forwarded by a trusted proxy).</summary>
    int AppliedHops { get; }

    /// <summary>Gets the request scheme before normalization.</summary>
    string OriginalScheme { get; }

    /// <summary>Gets the request host before normalization.</summary>
    HostString OriginalHost { get; }

    /// <summary>Gets the request path base before normalization.</summary>
    PathString OriginalPathBase { get; }
}
