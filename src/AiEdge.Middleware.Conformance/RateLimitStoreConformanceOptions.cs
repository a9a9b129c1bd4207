namespace AiEdge.Middleware.Conformance;

/// <summary>What the rate-limit store under test can do, and how hard to push it.</summary>
public sealed class RateLimitStoreConformanceOptions
{
    /// <summary>
    /// Gets whether the store decides on <c>RateLimitBatch.NowMs</c> and the <c>nowMs</c> of a reconciliation (the
    /// in-memory store does). A store with a clock of its own (Redis <c>TIME</c>) sets <see langword="false"/>: the
    /// checks that need a clock the test controls (exact timelines, delays, time going backwards, expiry, making
    /// room) are then left out, and the others use rules so slow that the real time a check takes drains nothing.
    /// </summary>
    /// <value>Default <see langword="true"/>.</value>
    public bool StoreDecidesOnBatchClock { get; init; } = true;

    /// <summary>
    /// Gets the most buckets the store holds, when it is bounded (the in-memory store's
    /// <c>RateLimitingOptions.MaxPartitions</c>); <see langword="null"/> for an unbounded store, which leaves the
    /// table-full checks out. Keep it small (16 to 256): the checks fill it. The other checks use at most 10 buckets
    /// each, or, for the cancellation check, as many as the bound leaves room for.
    /// </summary>
    /// <value>Default <see langword="null"/>.</value>
    public int? MaxBuckets { get; init; }

    /// <summary>Gets how many decisions the concurrency checks run at once.</summary>
    /// <value>Default 1,000.</value>
    public int Concurrency { get; init; } = 1000;

    /// <summary>Gets how long a concurrency check may take before it is reported as a deadlock.</summary>
    /// <value>Default 30 seconds.</value>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(30);
}
