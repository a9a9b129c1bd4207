namespace AiEdge.Middleware.Caching;

/// <summary>Options of Idempotency-Key handling, bound from <c>AiEdge:Idempotency</c>.</summary>
public sealed class IdempotencyOptions
{
    /// <summary>Gets or sets how long the first response of a key is kept for replay.</summary>
    /// <value>Defaults to 24 hours. Configuration key: <c>AiEdge:Idempotency:Retention</c>.</value>
    public TimeSpan Retention { get; set; } = TimeSpan.FromHours(24);

    /// <summary>Gets or sets whether opted-in endpoints refuse requests without an <c>Idempotency-Key</c> (400).</summary>
    /// <value>Defaults to <see langword="false"/>. Configuration key: <c>AiEdge:Idempotency:Required</c>.</value>
    public bool Required { get; set; }

    /// <summary>Gets or sets the longest accepted key, in characters.</summary>
    /// <value>Defaults to 255. Configuration key: <c>AiEdge:Idempotency:MaxKeyLength</c>.</value>
    public int MaxKeyLength { get; set; } = 255;

    /// <summary>Gets or sets the largest response body kept for replay; a larger answer is not recorded and a retry runs again.</summary>
    /// <value>Defaults to 1 MiB. Configuration key: <c>AiEdge:Idempotency:MaxResponseBodySize</c>.</value>
    public long MaxResponseBodySize { get; set; } = 1024 * 1024;

    /// <summary>Gets or sets how long a running first request holds its key before a retry may run (it guards against a crashed replica).</summary>
    /// <value>Defaults to 5 minutes. Configuration key: <c>AiEdge:Idempotency:ProcessingTimeout</c>.</value>
    public TimeSpan ProcessingTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Gets or sets the most bytes the in-memory store holds (keys, fingerprints and recorded responses, estimated).
    /// When a new key needs room, completed records are evicted oldest first; running requests are never evicted,
    /// and a new key that finds only running requests to evict is answered 503 with <c>Retry-After</c>. A retry
    /// after its record was evicted runs again as a new request, so size the bound for the retention window.
    /// Not used by a shared (Redis) store, except for its in-memory fallback.
    /// </summary>
    /// <value>Defaults to 64 MiB. Configuration key: <c>AiEdge:Idempotency:SizeLimit</c>.</value>
    public long SizeLimit { get; set; } = InMemoryIdempotencyStore.DefaultSizeLimit;

    /// <summary>Gets or sets the header that marks a replayed response (value <c>true</c>).</summary>
    /// <value>Defaults to <c>Idempotent-Replayed</c>. Configuration key: <c>AiEdge:Idempotency:ReplayedHeaderName</c>.</value>
    public string ReplayedHeaderName { get; set; } = "Idempotent-Replayed";
}
