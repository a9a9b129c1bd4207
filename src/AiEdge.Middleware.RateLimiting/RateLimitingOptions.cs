namespace AiEdge.Middleware.RateLimiting;

/// <summary>Tiered rate limiting, bound from <c>AiEdge:RateLimiting</c>.</summary>
public sealed class RateLimitingOptions
{
    /// <summary>Gets the tiers, by name (case-insensitive).</summary>
    /// <value>Configuration key: <c>AiEdge:RateLimiting:Tiers:&lt;name&gt;</c>.</value>
    public IDictionary<string, RateLimitTier> Tiers { get; } = new Dictionary<string, RateLimitTier>(StringComparer.OrdinalIgnoreCase);

    /// <summary>Gets or sets the status code of a rejection (NGINX <c>limit_req_status</c>).</summary>
    /// <value>Defaults to 429. Configuration key: <c>AiEdge:RateLimiting:RejectionStatusCode</c>.</value>
    public int RejectionStatusCode { get; set; } = RateLimitingDefaults.RejectionStatusCode;

    /// <summary>Gets or sets whether <c>RateLimit-Policy</c> and <c>RateLimit</c> are sent on every response of a limited route.</summary>
    /// <value>Defaults to <see langword="true"/>. Configuration key: <c>AiEdge:RateLimiting:EmitHeaders</c>.</value>
    public bool EmitHeaders { get; set; } = true;

    /// <summary>
    /// Gets or sets the most buckets the in-memory store holds (NGINX's zone size). When it is reached, a new
    /// partition takes the place of an idle (fully drained) bucket; when none is idle, the new partition's request is
    /// refused with <see cref="RejectionStatusCode"/> and <c>Retry-After</c>, as NGINX refuses when its zone is full.
    /// A bucket that could still refuse its client is never forgotten.
    /// </summary>
    /// <value>Defaults to 100,000. Configuration key: <c>AiEdge:RateLimiting:MaxPartitions</c>.</value>
    public int MaxPartitions { get; set; } = RateLimitingDefaults.MaxPartitions;

    /// <summary>Gets or sets how often the in-memory store forgets idle buckets.</summary>
    /// <value>Defaults to one minute. Configuration key: <c>AiEdge:RateLimiting:ExpirationScanInterval</c>.</value>
    public TimeSpan ExpirationScanInterval { get; set; } = RateLimitingDefaults.ExpirationScanInterval;

    /// <summary>Gets or sets the prefix length IPv6 client addresses are grouped by (128 = each address alone, as NGINX).</summary>
    /// <value>Defaults to 64. Configuration key: <c>AiEdge:RateLimiting:IPv6PrefixLength</c>.</value>
    public int IPv6PrefixLength { get; set; } = RateLimitingDefaults.IPv6PrefixLength;

    /// <summary>Adds or replaces the tier <paramref name="name"/>.</summary>
    /// <param name="name">The tier's name, as endpoints reference it.</param>
    /// <param name="configure">Sets the tier's rate, burst and the rest.</param>
    /// <returns>These options.</returns>
    public RateLimitingOptions AddTier(string name, Action<RateLimitTier> configure)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(configure);
        if (!Tiers.TryGetValue(name, out var tier))
        {
            tier = new RateLimitTier();
            Tiers[name] = tier;
        }

        configure(tier);
        return this;
    }
}
