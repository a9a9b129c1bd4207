namespace AiEdge.Middleware.ForwardedHeaders;

/// <summary>The forwarded headers a trusted proxy may set and the application honours.</summary>
[Flags]
public enum ForwardedHeaderSources
{
    /// <summary>No forwarded header is honoured.</summary>
    None = 0,

    /// <summary><c>X-Forwarded-For</c>: the chain of client addresses, walked from the right.</summary>
    XForwardedFor = 1,

    /// <summary><c>X-Forwarded-Proto</c>: the scheme the client used (<c>http</c> or <c>https</c>).</summary>
    XForwardedProto = 2,

    /// <summary><c>X-Forwarded-Host</c>: the host the client asked for.</summary>
    XForwardedHost = 4,

    /// <summary><c>X-Forwarded-Prefix</c>: the path prefix the proxy removed, applied as the request's path base.</summary>
    XForwardedPrefix = 8,

    /// <summary><c>X-Real-IP</c>: a single client address, used when neither <c>Forwarded</c> nor <c>X-Forwarded-For</c> is present.</summary>
    XRealIp = 16,

    /// <summary>RFC 7239 <c>Forwarded</c>: <c>for</c>, <c>proto</c> and <c>host</c> per hop; preferred over the <c>X-Forwarded-*</c> headers when present.</summary>
    Forwarded = 32,

    /// <summary>Every header above.</summary>
    All = XForwardedFor | XForwardedProto | XForwardedHost | XForwardedPrefix | XRealIp | Forwarded,
}
