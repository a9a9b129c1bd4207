namespace AiEdge.Middleware.RateLimiting;

/// <summary>
/// The admission arithmetic shared by every store: NGINX's <c>limit_req</c> in milli-units and milliseconds.
/// Pure functions over <see cref="BucketState"/>; a store only adds storage, atomicity and expiry around them, and a
/// store that cannot call them (a script running inside a database) reproduces them bit for bit.
/// </summary>
/// <remarks>
/// <para>Requests (per rule, elapsed <c>ms = max(now - last, 0)</c>, drain <c>d = floor(num * ms / den)</c>):
/// <c>excess' = max(excess - d + 1000, 0)</c> (0 for a missing bucket); rejected when <c>excess' &gt; capacity</c>
/// (state unchanged); else <c>excess = excess'</c> and <c>last = now</c> when <c>ms &gt; 0</c> (or the bucket is new);
/// delayed <c>(excess' - delay) * den / num</c> ms when <c>excess' &gt; delay</c>.</para>
/// <para>Available quota after an admitted decision leaving <c>e</c>: <c>remaining = floor((capacity - e) / 1000)</c>;
/// it grows by one once <c>1000 - (capacity - e) mod 1000</c> more has drained (<c>next</c>), or, when <c>e = 0</c>
/// for tokens (nothing to drain), one unit's drain time. A rejected request rule's <c>next</c> is its retry-after.</para>
/// <para>Tokens, for a cost <c>c</c> (milli-tokens): <c>excess' = max(excess - d, 0) + c</c>; rejected when
/// <c>excess' &gt; capacity</c>; reconciliation adds a signed delta and clamps at 0.</para>
/// </remarks>
public static class LeakyBucket
{
    /// <summary>One request, in milli-requests.</summary>
    public const long OneRequest = 1000;

    /// <summary>The milli-units drained from a bucket of <paramref name="rule"/> over <paramref name="elapsedMs"/>.</summary>
    /// <param name="rule">The rule.</param>
    /// <param name="elapsedMs">The elapsed time; 0 or less drains nothing.</param>
    public static Int128 Drained(RateLimitRule rule, long elapsedMs)
        => elapsedMs <= 0 ? Int128.Zero : (Int128)rule.RateNumerator * elapsedMs / rule.RateDenominator;

    /// <summary>
    /// Decides on one rule without changing the state. Returns the excess the bucket would hold if the decision
    /// is committed (meaningful when <paramref name="result"/> admits).
    /// </summary>
    /// <param name="rule">The rule.</param>
    /// <param name="state">The bucket's current state.</param>
    /// <param name="costMilli">The cost in milli-units (ignored for requests: always 1000).</param>
    /// <param name="nowMs">The store clock.</param>
    /// <param name="result">The outcome.</param>
    public static long Evaluate(RateLimitRule rule, in BucketState state, long costMilli, long nowMs, out RateLimitItemResult result)
    {
        result = default;
        var elapsed = state.Exists ? Math.Max(nowMs - state.LastMs, 0) : 0;
        long next;
        if (rule.Unit == RateLimitUnit.Requests)
        {
            next = state.Exists ? ClampToLong((Int128)state.ExcessMilli - Drained(rule, elapsed) + OneRequest) : 0;
            if (next > rule.CapacityMilli)
            {
                // Admitted once the bucket has drained excess + 1000 - capacity since last.
                result.RetryAfterMs = Math.Max(CeilingMs(rule, (Int128)state.ExcessMilli + OneRequest - rule.CapacityMilli) - elapsed, 1);
                result.Remaining = 0;
                result.NextMs = result.RetryAfterMs;
                return next;
            }

            result.Admitted = true;
            result.DelayMs = next > rule.DelayMilli ? (long)((Int128)(next - rule.DelayMilli) * rule.RateDenominator / rule.RateNumerator) : 0;
            result.Remaining = (rule.CapacityMilli - next) / OneRequest;
            result.NextMs = NextUnitMs(rule, next);
            return next;
        }

        var level = state.Exists ? ClampToLong((Int128)state.ExcessMilli - Drained(rule, elapsed)) : 0;
        next = level + costMilli;
        if (next > rule.CapacityMilli)
        {
            // Admitted once the level has drained to capacity - cost.
            result.RetryAfterMs = Math.Max(CeilingMs(rule, (Int128)state.ExcessMilli - (rule.CapacityMilli - costMilli)) - elapsed, 1);
            result.Remaining = (rule.CapacityMilli - level) / OneRequest;
            result.NextMs = level == 0
                ? CeilingMs(rule, OneRequest)
                : Math.Max(CeilingMs(rule, (Int128)state.ExcessMilli - rule.CapacityMilli + (result.Remaining + 1) * OneRequest) - elapsed, 1);
            return next;
        }

        result.Admitted = true;
        result.Remaining = (rule.CapacityMilli - next) / OneRequest;
        result.NextMs = next == 0 ? CeilingMs(rule, OneRequest) : NextUnitMs(rule, next);
        return next;
    }

    /// <summary>The ms until a bucket left at <paramref name="excessMilli"/> (at most the capacity) can spend one more unit at once.</summary>
    /// <param name="rule">The rule.</param>
    /// <param name="excessMilli">The excess the bucket holds.</param>
    public static long NextUnitMs(RateLimitRule rule, long excessMilli)
        => CeilingMs(rule, OneRequest - (rule.CapacityMilli - excessMilli) % OneRequest);

    /// <summary>Records an admitted decision: the new excess, and <c>last = now</c> when time moved (NGINX's <c>if (ms)</c>).</summary>
    /// <param name="state">The bucket's state, updated in place.</param>
    /// <param name="excessMilli">The excess <see cref="Evaluate"/> returned.</param>
    /// <param name="nowMs">The decision time.</param>
    public static void Commit(ref BucketState state, long excessMilli, long nowMs)
    {
        if (!state.Exists || nowMs > state.LastMs)
        {
            state.LastMs = nowMs;
        }

        state.ExcessMilli = excessMilli;
        state.Exists = true;
    }

    /// <summary>
    /// Applies a token reconciliation of <paramref name="deltaMilli"/> (negative gives tokens back): drains to now,
    /// adds the delta, clamps at 0. Returns the tokens the partition could spend at once afterwards.
    /// </summary>
    /// <param name="rule">A token rule.</param>
    /// <param name="state">The bucket's state, updated in place (a missing bucket is created).</param>
    /// <param name="deltaMilli">The correction in milli-tokens.</param>
    /// <param name="nowMs">The reconciliation time.</param>
    public static long Reconcile(RateLimitRule rule, ref BucketState state, long deltaMilli, long nowMs)
    {
        var elapsed = state.Exists ? Math.Max(nowMs - state.LastMs, 0) : 0;
        var level = state.Exists ? ClampToLong((Int128)state.ExcessMilli - Drained(rule, elapsed)) : 0;
        var next = Math.Max(level + deltaMilli, 0);
        Commit(ref state, next, nowMs);
        return Math.Max(rule.CapacityMilli - next, 0) / OneRequest;
    }

    /// <summary>
    /// Gets whether forgetting the bucket changes no future decision: it has drained so far that a missing bucket
    /// decides the same (requests: drained at least excess + 1000; tokens: drained to 0).
    /// </summary>
    /// <param name="rule">The rule.</param>
    /// <param name="state">The bucket's state.</param>
    /// <param name="nowMs">The time asked about.</param>
    public static bool IsIdle(RateLimitRule rule, in BucketState state, long nowMs)
    {
        if (!state.Exists)
        {
            return true;
        }

        var needed = rule.Unit == RateLimitUnit.Requests ? (Int128)state.ExcessMilli + OneRequest : state.ExcessMilli;
        return Drained(rule, Math.Max(nowMs - state.LastMs, 0)) >= needed;
    }

    /// <summary>The store clock (ms) from which <see cref="IsIdle"/> holds (<see cref="long.MinValue"/> for a missing bucket).</summary>
    /// <param name="rule">The rule.</param>
    /// <param name="state">The bucket's state.</param>
    public static long IdleAtMs(RateLimitRule rule, in BucketState state)
    {
        if (!state.Exists)
        {
            return long.MinValue;
        }

        var needed = rule.Unit == RateLimitUnit.Requests ? (Int128)state.ExcessMilli + OneRequest : state.ExcessMilli;
        var ms = CeilingMs(rule, needed);
        return ms >= long.MaxValue / 2 - state.LastMs ? long.MaxValue / 2 : state.LastMs + ms;
    }

    /// <summary>The smallest elapsed ms after which the bucket has drained at least <paramref name="milli"/>.</summary>
    /// <param name="rule">The rule.</param>
    /// <param name="milli">The milli-units to drain; 0 or less takes 0 ms.</param>
    public static long CeilingMs(RateLimitRule rule, Int128 milli)
    {
        if (milli <= 0)
        {
            return 0;
        }

        var product = milli * rule.RateDenominator;
        var ms = (product + rule.RateNumerator - 1) / rule.RateNumerator;
        return ClampToLong(ms);
    }

    private static long ClampToLong(Int128 value)
        => value < 0 ? 0 : value > long.MaxValue / 4 ? long.MaxValue / 4 : (long)value;
}
