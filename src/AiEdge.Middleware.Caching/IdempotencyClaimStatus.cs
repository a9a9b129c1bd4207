namespace AiEdge.Middleware.Caching;

/// <summary>The state of an Idempotency-Key found by <see cref="IIdempotencyStore.TryClaimAsync"/>.</summary>
public enum IdempotencyClaimStatus
{
    /// <summary>The caller now holds the key: it runs the request, then completes or releases the claim.</summary>
    Claimed,

    /// <summary>Another request holds the key and is still running.</summary>
    InProgress,

    /// <summary>A response is retained for the key.</summary>
    Completed,

    /// <summary>
    /// The key is absent but the store is at its size bound with nothing it may evict (only running claims): nothing
    /// was claimed, and the request must not run (the middleware answers 503) or a retry could run it a second time.
    /// </summary>
    Full,
}
