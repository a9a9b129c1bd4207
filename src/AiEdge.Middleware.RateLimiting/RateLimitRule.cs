namespace AiEdge.Middleware.RateLimiting;

/// <summary>
/// One family of leaky buckets (one bucket per partition), as a store sees it: immutable, built once at startup from
/// a tier (and, for a plan, the plan's overrides) and shared by every request, so a store may compare rules by
/// reference. All amounts are in thousandths of a unit ("milli-requests", "milli-tokens") and time in milliseconds,
/// as NGINX's <c>limit_req</c> keeps them. Stores only read it; tests (and the conformance kit) build their own.
/// </summary>
/// <remarks>
/// The bucket drains <c>floor(<see cref="RateNumerator"/> * elapsedMs / <see cref="RateDenominator"/>)</c>
/// milli-units over <c>elapsedMs</c>. For <c>Nr/s</c> and <c>Nr/m</c> the numerator is NGINX's own
/// <c>rate = N * 1000 / scale</c> (integer division, scale 1 or 60) and the denominator is 1000, so decisions
/// match NGINX bit for bit; longer periods (<c>r/h</c>, <c>r/d</c>) and token budgets keep the exact fraction.
/// </remarks>
public sealed class RateLimitRule
{
    /// <summary>Creates a rule.</summary>
    /// <param name="tierName">The tier's name (the policy name in the RateLimit fields).</param>
    /// <param name="planName">The plan's name, or <see langword="null"/> for the tier's own limits.</param>
    /// <param name="unit">What the rule counts.</param>
    /// <param name="rateNumerator">Milli-units drained per <paramref name="rateDenominator"/> ms (positive).</param>
    /// <param name="rateDenominator">The denominator of the drain rate (positive).</param>
    /// <param name="capacityMilli">The largest excess an admitted request may leave (0 or more).</param>
    /// <param name="delayMilli">The excess above which an admitted request is delayed; <see cref="long.MaxValue"/> for <c>nodelay</c>.</param>
    /// <param name="lockOrder">The rule's place in the global order stores lock buckets in.</param>
    /// <param name="quota">The quota advertised in <c>RateLimit-Policy</c>.</param>
    /// <param name="windowSeconds">The window advertised in <c>RateLimit-Policy</c>, in seconds.</param>
    public RateLimitRule(
        string tierName,
        string? planName,
        RateLimitUnit unit,
        long rateNumerator,
        long rateDenominator,
        long capacityMilli,
        long delayMilli,
        int lockOrder,
        long quota,
        long windowSeconds)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(rateNumerator, 0);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(rateDenominator, 0);
        ArgumentOutOfRangeException.ThrowIfNegative(capacityMilli);
        ArgumentException.ThrowIfNullOrEmpty(tierName);
        TierName = tierName;
        PlanName = planName;
        Unit = unit;
        RateNumerator = rateNumerator;
        RateDenominator = rateDenominator;
        CapacityMilli = capacityMilli;
        DelayMilli = delayMilli;
        LockOrder = lockOrder;
        Quota = quota;
        WindowSeconds = windowSeconds;
        StoreKey = unit == RateLimitUnit.Tokens
            ? (planName is null ? tierName + ":tokens" : tierName + ":" + planName + ":tokens")
            : (planName is null ? tierName : tierName + ":" + planName);
    }

    /// <summary>Gets the tier's name (the policy name in the RateLimit fields).</summary>
    public string TierName { get; }

    /// <summary>Gets the plan this rule belongs to, or <see langword="null"/> for the tier's own limits.</summary>
    public string? PlanName { get; }

    /// <summary>Gets what the rule counts.</summary>
    public RateLimitUnit Unit { get; }

    /// <summary>Gets the numerator of the drain rate (milli-units per <see cref="RateDenominator"/> milliseconds).</summary>
    public long RateNumerator { get; }

    /// <summary>Gets the denominator of the drain rate.</summary>
    public long RateDenominator { get; }

    /// <summary>
    /// Gets the largest excess an admitted request may leave: for requests NGINX's <c>burst * 1000</c>; for
    /// tokens the budget (<c>tokens * 1000</c>).
    /// </summary>
    public long CapacityMilli { get; }

    /// <summary>
    /// Gets NGINX's <c>delay * 1000</c>: an admitted request whose excess is above it waits
    /// <c>(excess - delay) * RateDenominator / RateNumerator</c> ms. <see cref="long.MaxValue"/> means <c>nodelay</c>.
    /// </summary>
    public long DelayMilli { get; }

    /// <summary>
    /// Gets the global order in which a store locks buckets of several rules for one atomic decision: ascending, so
    /// two batches sharing buckets never wait for each other. Rules that can meet in one batch have distinct orders
    /// (the plans of one tier share theirs: a request is charged under one plan only).
    /// </summary>
    public int LockOrder { get; }

    /// <summary>Gets the quota advertised in <c>RateLimit-Policy</c> (<c>q</c>).</summary>
    public long Quota { get; }

    /// <summary>Gets the window advertised in <c>RateLimit-Policy</c> (<c>w</c>), in seconds.</summary>
    public long WindowSeconds { get; }

    /// <summary>
    /// Gets a stable name of this bucket family for distributed stores: <c>tier</c>, <c>tier:plan</c>,
    /// <c>tier:tokens</c> or <c>tier:plan:tokens</c>. Combine with <see cref="PartitionKey.ToString"/>.
    /// </summary>
    public string StoreKey { get; }

    /// <summary>Gets whether the rule never delays (NGINX <c>nodelay</c>).</summary>
    public bool NoDelay => DelayMilli == long.MaxValue;

    /// <summary>
    /// Returns the rule one of <paramref name="replicas"/> replicas enforces on its own so that together they stay near
    /// this rule: what a replica decides locally with while the state they share (Redis) is unreachable. The drain rate
    /// is divided exactly (<see cref="RateDenominator"/> is multiplied by <paramref name="replicas"/>); the capacity is
    /// divided rounding down to the milli-unit, but never below one unit (1000) unless this rule's own capacity is
    /// smaller; the delay threshold is divided rounding down (<c>nodelay</c> stays <c>nodelay</c>). Tier, plan, unit,
    /// <see cref="LockOrder"/>, <see cref="StoreKey"/>, <see cref="Quota"/> and <see cref="WindowSeconds"/> stay this
    /// rule's, so the advertised policy is still the shared one.
    /// </summary>
    /// <remarks>
    /// Over any interval of <c>t</c> ms, <c>n</c> buckets of <c>Share(n)</c> that start empty admit at most
    /// <c>n - 1 + max(0, n - burst)</c> requests more than this rule's limit over that interval, <c>1 + burst +
    /// rate * t</c> (for a request rule with <c>burst = CapacityMilli / 1000</c>): each admits its first request at
    /// once and then what its capacity and drain allow, and the shares' capacities (when <c>burst</c> is at least
    /// <c>n</c>) and drains add up to at most this rule's. A new instance is returned
    /// on every call (stores may key buckets by rule reference: keep the instance and reuse it).
    /// </remarks>
    /// <param name="replicas">How many replicas share this rule (1 or more); 1 returns this rule itself.</param>
    /// <returns>The rule of one replica's share.</returns>
    public RateLimitRule Share(int replicas)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(replicas, 1);
        if (replicas == 1)
        {
            return this;
        }

        var capacity = Math.Max(CapacityMilli / replicas, Math.Min(CapacityMilli, LeakyBucket.OneRequest));
        var delay = NoDelay ? DelayMilli : DelayMilli / replicas;
        return new RateLimitRule(TierName, PlanName, Unit, RateNumerator, checked(RateDenominator * replicas), capacity, delay, LockOrder, Quota, WindowSeconds);
    }

    /// <inheritdoc />
    public override string ToString() => StoreKey;
}
