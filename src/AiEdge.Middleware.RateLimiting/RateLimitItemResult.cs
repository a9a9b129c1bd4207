namespace AiEdge.Middleware.RateLimiting;

/// <summary>
/// The outcome of one rule of an admission decision, written by the store: exactly what
/// <see cref="LeakyBucket.Evaluate"/> computes for the item.
/// </summary>
public struct RateLimitItemResult
{
    /// <summary>Gets or sets whether this rule admits the request (the batch admits only when every rule does).</summary>
    public bool Admitted { get; set; }

    /// <summary>Gets or sets, for an admitted request in delay mode, how long it must wait (ms); otherwise 0.</summary>
    public long DelayMs { get; set; }

    /// <summary>Gets or sets, for a rejected request, the ms until the same request would be admitted (&gt; 0); otherwise 0.</summary>
    public long RetryAfterMs { get; set; }

    /// <summary>Gets or sets the units (requests or tokens) the partition could still spend at once after this decision.</summary>
    public long Remaining { get; set; }

    /// <summary>
    /// Gets or sets the ms until the partition can spend more than <see cref="Remaining"/> at once: until the next
    /// unit drains (for a rejection, <see cref="RetryAfterMs"/> of a request rule); when nothing is left to drain,
    /// the time one unit takes. This is the RateLimit field's <c>t</c> (its effective window).
    /// </summary>
    public long NextMs { get; set; }
}
