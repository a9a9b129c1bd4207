using AiEdge.Middleware.RateLimiting;

namespace AiEdge.Middleware.Conformance;

/// <summary>
/// What <see cref="RateLimitStoreConformance"/> needs to know about the <see cref="IRateLimitStore"/> it checks: how
/// to make one, whose clock it decides on, whether it is bounded, and how hard to push it.
/// </summary>
public sealed class RateLimitStoreConformanceOptions
{
    /// <summary>
    /// Gets the factory of the store under test. Each check calls it once and disposes what it returns (when it is
    /// <see cref="IAsyncDisposable"/> or <see cref="IDisposable"/>). The checks use tiers named <c>conformance-…</c>
    /// with a fresh random suffix, so the stores may share their backend (one Redis server) with no cleanup.
    /// </summary>
    public required Func<IRateLimitStore> CreateStore { get; init; }

    /// <summary>
    /// Gets whether the store decides on a clock of its own (Redis <c>TIME</c>) and ignores the caller's clock,
    /// <c>RateLimitBatch.NowMs</c> and the <c>nowMs</c> of a reconciliation. The caller's clock is how the checks control
    /// time for this contract (there is nothing to advance: each batch carries its instant), so this flag is the
    /// rate-limit counterpart of the other kits' <c>AdvanceTime</c> being <see langword="null"/>. When
    /// <see langword="true"/>, the checks that need a clock the test controls (exact timelines, delays, time going
    /// backwards, expiry, making room) are left out, and the others use rules so slow that the real time a check takes
    /// drains nothing, comparing admissions and remaining quota instead of every field.
    /// </summary>
    /// <value>Defaults to <see langword="false"/>: the store decides on the caller's clock, as the in-memory store does.</value>
    public bool UsesOwnClock { get; init; }

    /// <summary>
    /// Gets the most buckets the stores <see cref="CreateStore"/> makes hold, when they are bounded (the in-memory
    /// store's <c>RateLimitingOptions.MaxPartitions</c>); <see langword="null"/> for an unbounded store, which leaves the
    /// table-full checks out. Keep it small (16 to 256): the checks fill it. The other checks use at most 10 buckets
    /// each, or, for the cancellation check, as many as the bound leaves room for.
    /// </summary>
    /// <value>Defaults to <see langword="null"/>.</value>
    public int? MaxBuckets { get; init; }

    /// <summary>Gets how many decisions the concurrency checks run at once.</summary>
    /// <value>Defaults to 1,000.</value>
    public int Concurrency { get; init; } = 1000;

    /// <summary>
    /// Gets how long a check waits for something the contract says will happen (concurrent decisions finishing, a
    /// cancelled decision ending) before it fails, reporting a deadlock or a lost wake-up.
    /// </summary>
    /// <value>Defaults to 30 seconds.</value>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(30);
}
