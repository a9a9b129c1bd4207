namespace AiEdge.Middleware.Resilience;

/// <summary>
/// What <see cref="ModelBackendClient.RelayAsync"/> passes from a backend's response to the client. Hop-by-hop
/// headers (RFC 9110 §7.6.1: <c>Connection</c> and every header it names, <c>Keep-Alive</c>,
/// <c>Proxy-Connection</c>, <c>TE</c>, <c>Trailer</c>, <c>Transfer-Encoding</c>, <c>Upgrade</c>,
/// <c>Proxy-Authenticate</c>, <c>Proxy-Authorization</c>) are never relayed, nor <c>Date</c> (the edge sets its
/// own). <c>Set-Cookie</c>, <c>Server</c>, <c>X-Powered-By</c> and headers starting with one of
/// <see cref="InternalHeaderPrefixes"/> are dropped unless listed in <see cref="AllowedHeaders"/>.
/// </summary>
public sealed class BackendRelayOptions
{
    /// <summary>
    /// Gets the backend response headers relayed although dropped by default (<c>Set-Cookie</c>, <c>Server</c>,
    /// <c>X-Powered-By</c>, or a name starting with an internal prefix). Hop-by-hop headers cannot be allowed.
    /// </summary>
    /// <value>Empty by default. Configuration key: <c>AiEdge:Resilience:Relay:AllowedHeaders:{i}</c>.</value>
    public IList<string> AllowedHeaders { get; } = new List<string>();

    /// <summary>
    /// Gets the name prefixes (compared ignoring case) of headers a backend uses internally, dropped unless listed in
    /// <see cref="AllowedHeaders"/>. Configured entries are added to the default one.
    /// </summary>
    /// <value><c>X-Internal-</c> by default. Configuration key: <c>AiEdge:Resilience:Relay:InternalHeaderPrefixes:{i}</c>.</value>
    public IList<string> InternalHeaderPrefixes { get; } = new List<string> { "X-Internal-" };
}
