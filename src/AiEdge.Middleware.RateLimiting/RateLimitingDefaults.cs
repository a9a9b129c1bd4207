namespace AiEdge.Middleware.RateLimiting;

/// <summary>The defaults of <see cref="RateLimitingOptions"/> and <see cref="RateLimitTier"/>.</summary>
public static class RateLimitingDefaults
{
    /// <summary>The rejection status: 429 Too Many Requests (NGINX's default is 503).</summary>
    public const int RejectionStatusCode = 429;

    /// <summary>The most buckets the in-memory store keeps (about 100 bytes each); beyond, new partitions are refused until one is idle.</summary>
    public const int MaxPartitions = 100_000;

    /// <summary>The IPv6 prefix length client addresses are grouped by.</summary>
    public const int IPv6PrefixLength = 64;

    /// <summary>How often idle buckets are forgotten.</summary>
    public static readonly TimeSpan ExpirationScanInterval = TimeSpan.FromMinutes(1);

    /// <summary>The token budget window.</summary>
    public const string TokenWindow = "1m";

    /// <summary>Completion tokens reserved when a body has no <c>max_tokens</c>.</summary>
    public const int DefaultMaxTokens = 256;

    /// <summary>Prompt characters per estimated token.</summary>
    public const int CharsPerToken = 4;

    /// <summary>Body bytes inspected for a token estimate.</summary>
    public const int MaxInspectedBodyBytes = 1024 * 1024;

    /// <summary>The problem type of a rejection (draft-ietf-httpapi-ratelimit-headers).</summary>
    public const string QuotaExceededProblemType = "https://iana.org/assignments/http-problem-types#quota-exceeded";

    /// <summary>
    /// The problem type of a refusal because the in-memory store's partition table is full of active buckets
    /// (draft-ietf-httpapi-ratelimit-headers' temporary reduced capacity).
    /// </summary>
    public const string ReducedCapacityProblemType = "https://iana.org/assignments/http-problem-types#temporary-reduced-capacity";
}
