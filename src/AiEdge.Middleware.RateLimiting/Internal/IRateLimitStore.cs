namespace AiEdge.Middleware.RateLimiting.Internal;

/// <summary>
/// Where rate-limit state lives. The in-memory <see cref="InMemoryRateLimitStore"/> is the default; a distributed
/// store (Redis) replaces it through DI (<c>services.Replace(ServiceDescriptor.Singleton&lt;IRateLimitStore, ...&gt;())</c>)
/// and must decide exactly as <see cref="LeakyBucket"/> does.
/// </summary>
/// <remarks>
/// <para><b>Contract.</b> A bucket is identified by <c>(rule.StoreKey, partition)</c>: <see cref="RateLimitRule.StoreKey"/>
/// plus <see cref="PartitionKey.ToString"/> is a stable text key. A bucket holds <see cref="BucketState"/>
/// (<c>excess</c> in milli-units, <c>last</c> in ms); a missing bucket behaves as one idle forever.</para>
/// <para><b>Arithmetic.</b> Every decision is <see cref="LeakyBucket.Evaluate"/> followed, when admitted, by
/// <see cref="LeakyBucket.Commit"/>; reconciliation is <see cref="LeakyBucket.Reconcile"/>. A port (for example a
/// Lua script) must use the same integer arithmetic: drain <c>floor(num * ms / den)</c>, the NGINX request formula
/// <c>max(excess - drain + 1000, 0)</c>, the token formula <c>max(excess - drain, 0) + cost</c>, rejection when
/// above the capacity without touching state, <c>last = now</c> only when time moved forward. The results
/// (<see cref="RateLimitItemResult"/>: retry-after, delay, remaining, next) follow from the same formulas.</para>
/// <para><b>Atomicity.</b> The decision for one bucket must be atomic: no two decisions (or a decision and a
/// reconciliation) on the same bucket may interleave, so 1,000 concurrent requests admit exactly what a
/// sequential timeline admits. A batch of several items is all-or-nothing, as NGINX's several <c>limit_req</c>:
/// every item is evaluated against the same <see cref="RateLimitBatch.NowMs"/>; only when every item admits are
/// they all committed; otherwise nothing changes. Lock buckets in ascending <see cref="RateLimitRule.LockOrder"/>
/// (the items are already in that order).</para>
/// <para><b>Clock.</b> <see cref="RateLimitBatch.NowMs"/> and the <c>nowMs</c> arguments are this process's
/// monotonic millisecond clock. A store shared by several processes must substitute one shared clock (such as the
/// Redis server's <c>TIME</c>); time going backwards is treated as no time passing.</para>
/// <para><b>Expiry.</b> A store may forget a bucket only when <see cref="LeakyBucket.IsIdle"/> holds (forgetting then
/// changes no decision), never to make room: forgetting a live bucket resets a client's quota. A store with a bound
/// that has no room for a new partition refuses its batch (<see cref="RateLimitBatch.TableFull"/>) instead. A
/// distributed store sets a TTL of at least the time until the committed state is idle
/// (<see cref="LeakyBucket.IdleAtMs"/> minus now).</para>
/// <para><b>Failure.</b> Implementations do not throw for a refused request; they throw only when the state cannot
/// be reached (the caller decides whether to fail open). Cancellation is honoured.</para>
/// </remarks>
internal interface IRateLimitStore
{
    /// <summary>
    /// Decides on every item of <paramref name="batch"/> atomically, writing <see cref="RateLimitBatch.Results"/>
    /// and <see cref="RateLimitBatch.Admitted"/>. When any item rejects, no bucket changes.
    /// </summary>
    /// <param name="batch">The items and the decision time.</param>
    /// <param name="cancellationToken">Cancels the decision (the client went away).</param>
    /// <returns>A task that completes when the results are written; synchronously for the in-memory store.</returns>
    ValueTask AcquireAsync(RateLimitBatch batch, CancellationToken cancellationToken);

    /// <summary>
    /// Adjusts a token bucket after the response: <paramref name="deltaMilli"/> is the real usage minus the reserved
    /// estimate (negative gives tokens back). Atomic per bucket.
    /// </summary>
    /// <param name="rule">A rule whose <see cref="RateLimitRule.Unit"/> is <see cref="RateLimitUnit.Tokens"/>.</param>
    /// <param name="partition">The partition charged at admission.</param>
    /// <param name="deltaMilli">The correction in milli-tokens.</param>
    /// <param name="nowMs">The store clock.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The tokens the partition could spend at once afterwards.</returns>
    ValueTask<long> ReconcileAsync(RateLimitRule rule, PartitionKey partition, long deltaMilli, long nowMs, CancellationToken cancellationToken);
}
