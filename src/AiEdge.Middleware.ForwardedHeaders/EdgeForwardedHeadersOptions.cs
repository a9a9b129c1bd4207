namespace AiEdge.Middleware.ForwardedHeaders;

/// <summary>
/// Options of AiEdge forwarded-header normalization, bound from <c>AiEdge:ForwardedHeaders</c>. Named apart from
/// ASP.NET Core's <c>Microsoft.AspNetCore.Builder.ForwardedHeadersOptions</c>, which configures a different middleware.
/// </summary>
public sealed class EdgeForwardedHeadersOptions
{
    /// <summary>The proxies trusted when <see cref="TrustedProxies"/> is empty: loopback only.</summary>
    public static readonly IReadOnlyList<string> DefaultTrustedProxies = ["127.0.0.1/32", "::1/128"];

    /// <summary>Gets or sets whether forwarded headers are normalized at all.</summary>
    /// <value>Defaults to <see langword="true"/>. Configuration key: <c>AiEdge:ForwardedHeaders:Enabled</c>.</value>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// Gets or sets the trusted proxies as IP addresses or CIDR ranges, IPv4 or IPv6 (<c>10.0.0.0/8</c>,
    /// <c>fd00::/8</c>, <c>192.0.2.10</c>), like NGINX's <c>set_real_ip_from</c>. Forwarded headers are honoured
    /// only when the connected peer is in this list. IPv4 ranges also match IPv4-mapped IPv6 peers.
    /// </summary>
    /// <value>
    /// Empty by default, which trusts <see cref="DefaultTrustedProxies"/> (<c>127.0.0.1/32</c> and <c>::1/128</c>).
    /// Configuration key: <c>AiEdge:ForwardedHeaders:TrustedProxies</c> (an array).
    /// </value>
    public List<string> TrustedProxies { get; set; } = [];

    /// <summary>
    /// Gets or sets whether ranges that cover every address (<c>0.0.0.0/0</c>, <c>::/0</c> or an equivalent set) are
    /// accepted. Trusting every peer lets any client forge its address, scheme and host, so startup fails unless
    /// this is set; set it only when the network guarantees that nothing but your proxies reaches the application.
    /// </summary>
    /// <value>Defaults to <see langword="false"/>. Configuration key: <c>AiEdge:ForwardedHeaders:AllowAnyProxy</c>.</value>
    public bool AllowAnyProxy { get; set; }

    /// <summary>Gets or sets the forwarded headers honoured from a trusted proxy.</summary>
    /// <value>
    /// Defaults to <see cref="ForwardedHeaderSources.All"/>. Configuration key: <c>AiEdge:ForwardedHeaders:Headers</c>
    /// (comma-separated names, e.g. <c>"XForwardedFor, XForwardedProto"</c>).
    /// </value>
    public ForwardedHeaderSources Headers { get; set; } = ForwardedHeaderSources.All;

    /// <summary>
    /// Gets or sets whether the client address is found recursively like NGINX's <c>real_ip_recursive on</c>:
    /// walking from the right, trusted hops are skipped and the first untrusted address is the client. When
    /// <see langword="false"/>, only the rightmost hop is applied.
    /// </summary>
    /// <value>Defaults to <see langword="true"/>. Configuration key: <c>AiEdge:ForwardedHeaders:RecursiveSearch</c>.</value>
    public bool RecursiveSearch { get; set; } = true;

    /// <summary>Gets or sets the largest number of forwarded hops applied to one request (1 to 64).</summary>
    /// <value>Defaults to 10. Configuration key: <c>AiEdge:ForwardedHeaders:ForwardLimit</c>.</value>
    public int ForwardLimit { get; set; } = 10;

    /// <summary>
    /// Gets or sets the longest forwarded header (all its lines together, in characters) that is read; a longer one
    /// is ignored as malformed.
    /// </summary>
    /// <value>Defaults to 8192. Configuration key: <c>AiEdge:ForwardedHeaders:MaxHeaderLength</c> (64 to 65536).</value>
    public int MaxHeaderLength { get; set; } = 8192;
}
