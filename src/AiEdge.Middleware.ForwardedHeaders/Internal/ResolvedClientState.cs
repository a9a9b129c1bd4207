using System.Net;
using Microsoft.AspNetCore.Http;

namespace AiEdge.Middleware.ForwardedHeaders.Internal;

/// <summary>
/// The resolved client of one request, reused for every request of an HTTP/1.x connection (they never overlap),
/// so that the steady state allocates nothing: the peer's trust and the last client <see cref="IPAddress"/> are
/// remembered and reused while they do not change.
/// </summary>
internal sealed class ResolvedClientState : IResolvedClientFeature
{
    private IPAddress? _peer;
    private IpValue _peerValue;
    private bool _peerTrusted;
    private IPAddress? _client;
    private IpValue _clientValue;

    public IPAddress? RemoteIpAddress { get; private set; }

    public IPAddress? PeerIpAddress { get; private set; }

    public int AppliedHops { get; private set; }

    public string OriginalScheme { get; private set; } = string.Empty;

    public HostString OriginalHost { get; private set; }

    public PathString OriginalPathBase { get; private set; }

    public void Begin(IPAddress? peer, string scheme, HostString host, PathString pathBase)
    {
        PeerIpAddress = peer;
        RemoteIpAddress = peer;
        AppliedHops = 0;
        OriginalScheme = scheme;
        OriginalHost = host;
        OriginalPathBase = pathBase;
    }

    /// <summary>Whether <paramref name="peer"/> is a trusted proxy, remembered while the peer object is the same.</summary>
    public bool IsPeerTrusted(IPAddress peer, ForwardedHeadersResolver resolver, out IpValue value)
    {
        if (!ReferenceEquals(peer, _peer))
        {
            _peer = null;
            if (!IpValue.TryFrom(peer, out _peerValue))
            {
                value = default;
                return false;
            }

            _peerTrusted = resolver.IsTrusted(_peerValue);
            _peer = peer;
        }

        value = _peerValue;
        return _peerTrusted;
    }

    /// <summary>The client address as an <see cref="IPAddress"/>, reusing the previous instance when it is the same address.</summary>
    public IPAddress GetClientAddress(in IpValue value)
    {
        if (_client is null || _clientValue != value)
        {
            _client = value.ToIPAddress();
            _clientValue = value;
        }

        return _client;
    }

    public void Resolved(IPAddress client, int hops)
    {
        RemoteIpAddress = client;
        AppliedHops = hops;
    }
}
