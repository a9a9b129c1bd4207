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

    /// <summary>
    /// The authenticated caller (<c>HttpContext.GetCallerId()</c>: qualified by its source, so an API key, a JWT
    /// subject of each issuer and an identity of the app's own scheme never share a bucket); anonymous requests fall
    /// back to the client IP.
    /// </summary>
    Caller = 1,

    /// <summary>
    /// The name of the AiEdge API key the caller used (<c>HttpContext.GetCallerApiKeyName()</c>; an <c>aiedge:api_key</c>
    /// claim inside a JWT does not count); requests without one fall back to the client IP.
    /// </summary>
    ApiKey = 2,

    /// <summary>
    /// The value of the claim named by <see cref="RateLimitTier.PartitionClaim"/>, qualified by the claim's issuer (one
    /// value asserted by two issuers is two buckets); requests without it fall back to the client IP.
    /// </summary>
    Claim = 3,

    /// <summary>The result of <see cref="RateLimitTier.PartitionResolver"/>; a <see langword="null"/> result falls back to the client IP.</summary>
    Custom = 4,
}
