namespace AiEdge.Middleware.RateLimiting;

/// <summary>
/// The state of one bucket: NGINX's <c>excess</c> and <c>last</c>. A store keeps one per <c>(rule, partition)</c> and
/// changes it only through <see cref="LeakyBucket.Commit"/> and <see cref="LeakyBucket.Reconcile"/> (or their exact
/// port); <c>default</c> is a missing bucket.
/// </summary>
public struct BucketState
{
    /// <summary>Gets or sets the excess in milli-units at <see cref="LastMs"/>.</summary>
    public long ExcessMilli { get; set; }

    /// <summary>Gets or sets the clock (ms) when the excess was last recorded.</summary>
    public long LastMs { get; set; }

    /// <summary>Gets or sets whether the bucket exists; a missing bucket behaves as one idle forever.</summary>
    public bool Exists { get; set; }
}
