namespace AiEdge.Middleware.RateLimiting;

/// <summary>
/// Where rate-limit state lives. <see cref="InMemoryRateLimitStore"/> is the default; another store (Redis, a
/// database, a cloud cache) replaces it through DI, with <c>edge.AddRateLimitStore&lt;MyStore&gt;()</c> or
/// <c>services.AddSingleton&lt;IRateLimitStore, MyStore&gt;()</c>, and must decide exactly as
/// <see cref="LeakyBucket"/> does. The middleware uses only this interface: it never looks at a store's concrete
/// type. <c>RateLimitStoreConformance</c> in the <c>AiEdge.Middleware.Conformance</c> package checks every clause
/// below against an implementation.
/// </summary>
/// <remarks>
/// <para><b>Buckets.</b> A bucket is identified by <c>(rule, partition)</c>; <see cref="RateLimitRule.StoreKey"/> plus
/// <see cref="PartitionKey.ToString"/> is a stable text key for it. A bucket holds a <see cref="BucketState"/>
/// (<c>excess</c> in milli-units, <c>last</c> in ms); a missing bucket behaves as one idle forever.</para>
/// <para><b>Arithmetic.</b> Every decision is <see cref="LeakyBucket.Evaluate"/> followed, when the whole batch admits,
/// by <see cref="LeakyBucket.Commit"/> on each item; reconciliation is <see cref="LeakyBucket.Reconcile"/>. A port to
/// another language (a Lua script, SQL) uses the same integer arithmetic: drain <c>floor(num * ms / den)</c>, the NGINX
/// request formula <c>max(excess - drain + 1000, 0)</c>, the token formula <c>max(excess - drain, 0) + cost</c>,
/// rejection above the capacity without touching state, <c>last = now</c> only when time moved forward; and the
/// results (<see cref="RateLimitItemResult"/>: delay, retry-after, remaining, next) follow from the same formulas, bit
/// for bit.</para>
/// <para><b>Atomicity.</b> No two decisions (or a decision and a reconciliation) on one bucket may interleave: 1,000
/// concurrent requests on one bucket admit exactly what one after another would. A batch of several items is
/// all-or-nothing, as NGINX's several <c>limit_req</c>: every item is evaluated against the same
/// <see cref="RateLimitBatch.NowMs"/> and the state as it was before the batch; only when every item admits are they
/// all committed; otherwise no bucket changes.</para>
/// <para><b>Lock order.</b> The items of a batch are in ascending <see cref="RateLimitRule.LockOrder"/>, whatever order
/// the caller added them in. A store that locks buckets locks them in that order (item 0 first) and releases them
/// only after the batch is decided, so two batches that share buckets can never wait for each other. A store that
/// decides a batch in one atomic step (a Redis script, a serializable transaction) needs no locks.</para>
/// <para><b>Clock.</b> <see cref="RateLimitBatch.NowMs"/> and the <c>nowMs</c> argument of
/// <see cref="ReconcileAsync"/> are the caller's monotonic millisecond clock; the in-memory store decides on them. A
/// store shared by several processes may substitute one shared clock (the Redis store uses the server's
/// <c>TIME</c>) and then ignores them. Time going backwards is treated as no time passing: the elapsed time is
/// <c>max(now - last, 0)</c> and <c>last</c> never moves back.</para>
/// <para><b>Expiry.</b> A store may forget a bucket only once <see cref="LeakyBucket.IsIdle"/> holds (forgetting it then
/// changes no decision), never to make room: forgetting a live bucket resets a client's quota. A store with a bound
/// that has no room for a new partition refuses that batch instead (<see cref="RateLimitBatch.TableFull"/>, with
/// <see cref="RateLimitBatch.TableFullRetryAfterMs"/>), changing no bucket. A store with a time-to-live sets one of at
/// least the time until the committed state is idle (<see cref="LeakyBucket.IdleAtMs"/> minus now).</para>
/// <para><b>Failure.</b> A refusal is a result, never an exception. A store throws only when its state cannot be
/// reached or updated, and then leaves every bucket as it was (or, if it cannot know, as if the whole batch had been
/// decided: never part of it); the middleware lets the exception surface (a store may fall back to local state
/// itself, as the Redis store does when configured to fail open). A store must not block the calling thread on I/O:
/// return a pending <see cref="ValueTask"/> instead.</para>
/// <para><b>Cancellation.</b> The token is the client's <c>RequestAborted</c>. A store may ignore it (a synchronous
/// store decides at once), or end with <see cref="OperationCanceledException"/>; a cancelled decision either took
/// effect as a whole or not at all, and its batch is not read afterwards (the store must not write it once it has
/// reported cancellation, since the caller may reuse it).</para>
/// <para><b>Thread safety.</b> A store is a singleton called from every request concurrently; batches are pooled and
/// reused by the caller after the returned task completes, so a store keeps no reference to a batch past that.</para>
/// </remarks>
public interface IRateLimitStore
{
    /// <summary>
    /// Decides on every item of <paramref name="batch"/> atomically, writing <see cref="RateLimitBatch.Results"/>
    /// (one result per item, whether the batch admits or not) and <see cref="RateLimitBatch.Admitted"/> (or
    /// <see cref="RateLimitBatch.TableFull"/>). When any item rejects, no bucket changes.
    /// </summary>
    /// <param name="batch">The items and the decision time.</param>
    /// <param name="cancellationToken">The client's request-aborted token.</param>
    /// <returns>A task that completes when the results are written; synchronously for the in-memory store.</returns>
    ValueTask AcquireAsync(RateLimitBatch batch, CancellationToken cancellationToken);

    /// <summary>
    /// Adjusts a token bucket after the response: <paramref name="deltaMilli"/> is the real usage minus the reserved
    /// estimate (negative gives tokens back, positive charges an overspend, even past the capacity). Drains the bucket
    /// to <paramref name="nowMs"/>, adds the delta and clamps at 0, as <see cref="LeakyBucket.Reconcile"/>. Atomic per
    /// bucket; a missing bucket is reconciled as an empty one.
    /// </summary>
    /// <param name="rule">A rule whose <see cref="RateLimitRule.Unit"/> is <see cref="RateLimitUnit.Tokens"/>.</param>
    /// <param name="partition">The partition charged at admission.</param>
    /// <param name="deltaMilli">The correction in milli-tokens.</param>
    /// <param name="nowMs">The caller's clock (ms), as <see cref="RateLimitBatch.NowMs"/>.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The whole tokens the partition could spend at once afterwards.</returns>
    ValueTask<long> ReconcileAsync(RateLimitRule rule, PartitionKey partition, long deltaMilli, long nowMs, CancellationToken cancellationToken);
}
