using AiEdge.Middleware.Conformance.Internal;
using AiEdge.Middleware.RateLimiting;

namespace AiEdge.Middleware.Conformance;

/// <summary>
/// The contract checks of an <see cref="IRateLimitStore"/>: run each one as a test case against your store, as the
/// suite does against <see cref="InMemoryRateLimitStore"/> and the Redis store.
/// </summary>
/// <remarks>
/// <para>Every check creates its own store with the factory (and disposes it afterwards when it is
/// <see cref="IDisposable"/> or <see cref="IAsyncDisposable"/>), uses tiers named <c>conformance-…</c> with a fresh
/// random suffix (so stores over shared state, such as one Redis, need no cleanup between checks), and compares the
/// store's answers with <see cref="LeakyBucket"/>'s arithmetic. An exception the store throws where the contract
/// expects a result fails the check.</para>
/// <para>The checks and what they need:</para>
/// <list type="bullet">
/// <item><description><c>Requests: NGINX arithmetic</c>, <c>Requests: burst and delay</c>, <c>Clock: time going
/// backwards</c>, <c>Expiry: remembered until idle</c>: a store that decides on the caller's clock (not
/// <see cref="RateLimitStoreConformanceOptions.UsesOwnClock"/>); every field of every result must be exactly
/// LeakyBucket's.</description></item>
/// <item><description><c>Tokens: reservation and reconciliation</c>, <c>Batches: all-or-nothing</c>,
/// <c>Concurrency: …</c>, <c>Lock order: …</c>, <c>Cancellation: …</c>: any store. With a clock of the store's own
/// they use rules of one unit a day, so the seconds a check takes drain nothing, and compare admissions and remaining
/// quota; on the caller's clock they compare every field.</description></item>
/// <item><description><c>Table full: refusal</c>: a bounded store (<see cref="RateLimitStoreConformanceOptions.MaxBuckets"/>);
/// <c>Table full: only idle buckets make room</c>: a bounded store on the caller's clock.</description></item>
/// </list>
/// </remarks>
public static class RateLimitStoreConformance
{
    /// <summary>The checks for the stores <paramref name="options"/> describes.</summary>
    /// <param name="options">How to make the store and what it can do.</param>
    /// <returns>The checks, each named by what it proves.</returns>
    public static IReadOnlyList<ConformanceCheck> Checks(RateLimitStoreConformanceOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(options.CreateStore);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Concurrency, 2);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(options.Timeout, TimeSpan.Zero);
        var kit = new RateLimitStoreChecks(options);
        var checks = new List<ConformanceCheck>();
        if (!options.UsesOwnClock)
        {
            checks.Add(kit.Check("Requests: NGINX arithmetic, every result field exactly as LeakyBucket over a timeline of single and multi-rule batches", kit.RequestsTimelineAsync));
            checks.Add(kit.Check("Requests: burst and delay, queued requests wait (excess - delay) / rate and the burst's end rejects with the exact retry-after", kit.BurstAndDelayAsync));
            checks.Add(kit.Check("Clock: time going backwards is no time passing, and last never moves back", kit.BackwardsAsync));
            checks.Add(kit.Check("Expiry: a bucket is remembered until it is idle, then decides as a new one", kit.ExpiryAsync));
        }

        checks.Add(kit.Check("Tokens: reservation and reconciliation, tokens given back and overspent", kit.TokensAsync));
        checks.Add(kit.Check("Batches: all-or-nothing, one rejecting item changes no bucket", kit.AllOrNothingAsync));
        checks.Add(kit.Check("Concurrency: concurrent requests on one bucket admit exactly what one after another would", kit.ConcurrentRequestsAsync));
        checks.Add(kit.Check("Concurrency: concurrent reconciliations of one bucket lose no update", kit.ConcurrentReconcileAsync));
        checks.Add(kit.Check("Lock order: concurrent batches sharing buckets, rules added in opposite orders, finish and stay all-or-nothing", kit.LockOrderAsync));
        checks.Add(kit.Check("Cancellation: a cancelled decision ends in OperationCanceledException or a result, all-or-nothing either way", kit.CancellationAsync));
        if (options.MaxBuckets is not null)
        {
            checks.Add(kit.Check("Table full: refusal, a new bucket is refused while every bucket is live, and no live bucket is forgotten", kit.TableFullAsync));
            if (!options.UsesOwnClock)
            {
                checks.Add(kit.Check("Table full: only idle buckets make room, every idle one and no live one", kit.TableFullIdleAsync));
            }
        }

        return checks;
    }
}
