namespace AiEdge.Middleware.Redis;

/// <summary>
/// Settings of rate-limit leases, bound from <c>AiEdge:Redis:RateLimitLeases</c>: an opt-in that trades a bounded
/// amount of precision for fewer Redis round trips. With leases on, a replica takes several requests of a
/// <c>nodelay</c> request bucket from Redis in one script call (charged to the shared bucket up front, and only when
/// the whole lease fits, by the same arithmetic as an exact decision), then admits locally from it until it is used
/// up or <see cref="Lifetime"/> ends.
/// </summary>
/// <remarks>
/// <para>The shared bucket is never charged less than exact accounting would charge at the lease's instant: a lease
/// is taken only when the bucket would admit every request in it, so at any one instant the fleet admits at most what
/// the bucket allows. Leased requests are admitted up to <see cref="Lifetime"/> after they were charged, so a window of
/// the limit may see at most <c>min(replicas × (lease − 1), rate × lifetime)</c> more than the exact bucket would put in
/// it. A lease's unused requests stay charged until the bucket drains them: other replicas may be refused early by at
/// most about <c>2 × replicas × (lease − 1)</c> (one live lease per replica and bucket, plus an expired one draining).
/// </para>
/// /// <para>Only single-rule decisions of a <c>nodelay</c> request tier lease. Tiers with a delay, token budgets (a
/// reservation reconciled after the response) and requests charged to several rules at once stay exact. A tier
/// whose lease would hold fewer than 2 requests (<c>burst × <see cref="BurstFraction"/></c> or <c>rate × lifetime</c> under 2) stays exact.</para>
/// </remarks>
public sealed class RedisRateLimitLeaseOptions
{
    /// <summary>Gets or sets whether replicas lease requests of a bucket instead of deciding each request in Redis.</summary>
    /// <value><see langword="false"/>: every decision is exact in Redis.</value>
    public bool Enabled { get; set; }

    /// <summary>
    /// Gets or sets the largest lease as a fraction of a tier's burst: a lease holds at most
    /// <c>floor(burst × fraction)</c> requests, and at most what the tier's rate drains in one <see cref="Lifetime"/>. A replica starts a bucket with exact decisions and leases of 2, and
    /// doubles a lease each time it uses one up within its lifetime, up to this size.
    /// </summary>
    /// <value>0.1 (a burst of 100 leases at most 10 requests; a burst under 20 stays exact).</value>
    public double BurstFraction { get; set; } = 0.1;

    /// <summary>
    /// Gets or sets how long a replica may admit from a lease after taking it. Shorter keeps the window error
    /// (<c>rate × lifetime</c>) small; longer saves more round trips at low traffic.
    /// </summary>
    /// <value>200 milliseconds.</value>
    public TimeSpan Lifetime { get; set; } = TimeSpan.FromMilliseconds(200);
}
