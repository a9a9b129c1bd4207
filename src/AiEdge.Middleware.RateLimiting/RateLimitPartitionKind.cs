namespace AiEdge.Middleware.RateLimiting;

/// <summary>Whose bucket a tier charges a request to.</summary>
public enum RateLimitPartitionKind
{
    /// <summary>
    /// The client address after forwarded-header normalization (<c>HttpContext.Connection.RemoteIpAddress</c>), never
    /// a raw header. NGINX's <c>$binary_remote_addr</c>. IPv6 clients are grouped by
    /// <see cref="RateLimitingOptions.IPv6PrefixLength"/>.
    /// </summary>
    ClientIp = 0,

    /// <summary>The authenticated caller (<c>HttpContext.GetCallerId()</c>: subject, else API key name); anonymous requests fall back to the client IP.</summary>
    Caller = 1,

    /// <summary>The name of the API key the caller used (claim <c>aiedge:api_key</c>); requests without one fall back to the client IP.</summary>
    ApiKey = 2,

    /// <summary>The value of the claim named by <see cref="RateLimitTier.PartitionClaim"/>; requests without it fall back to the client IP.</summary>
    Claim = 3,

    /// <summary>The result of <see cref="RateLimitTier.PartitionResolver"/>; a <see langword="null"/> result falls back to the client IP.</summary>
    Custom = 4,
}
