using Microsoft.AspNetCore.Http;

namespace AiEdge.Middleware.RateLimiting;

/// <summary>
/// A named limit endpoints opt into: NGINX's <c>limit_req_zone ... rate=</c> plus <c>limit_req burst= [nodelay|delay=]</c>,
/// per partition, optionally with an LLM token budget and per-plan overrides.
/// </summary>
public sealed class RateLimitTier
{
    /// <summary>
    /// Gets or sets the rate, written as NGINX writes it: <c>Nr/s</c> or <c>Nr/m</c> (decided exactly as NGINX does,
    /// including its integer milli-request rate), or <c>Nr/h</c>, <c>Nr/d</c>.
    /// </summary>
    /// <value>Required unless the tier only has a <see cref="TokenBudget"/>. Configuration key: <c>AiEdge:RateLimiting:Tiers:&lt;name&gt;:Rate</c>.</value>
    public string? Rate { get; set; }

    /// <summary>Gets or sets NGINX's <c>burst</c>: a partition at rest may send 1 + Burst requests at once.</summary>
    /// <value>Defaults to 0. Configuration key: <c>...:Tiers:&lt;name&gt;:Burst</c>.</value>
    public int Burst { get; set; }

    /// <summary>
    /// Gets or sets NGINX's <c>delay=N</c>: the first N excess requests pass at once, later ones up to the burst are
    /// queued (delayed to the rate). Setting it selects delay mode.
    /// </summary>
    /// <value>Defaults to unset. Configuration key: <c>...:Tiers:&lt;name&gt;:Delay</c>.</value>
    public int? Delay { get; set; }

    /// <summary>
    /// Gets or sets NGINX's <c>nodelay</c>. <see langword="false"/> (without <see cref="Delay"/>) queues every excess
    /// request, as <c>limit_req</c> without <c>nodelay</c> does.
    /// </summary>
    /// <value>Defaults to <see langword="true"/> unless <see cref="Delay"/> is set. Configuration key: <c>...:Tiers:&lt;name&gt;:NoDelay</c>.</value>
    public bool? NoDelay { get; set; }

    /// <summary>Gets or sets whether the tier only counts and logs (NGINX <c>limit_req_dry_run</c>): it never rejects or delays.</summary>
    /// <value>Defaults to <see langword="false"/>. Configuration key: <c>...:Tiers:&lt;name&gt;:DryRun</c>.</value>
    public bool DryRun { get; set; }

    /// <summary>Gets or sets whose bucket a request is charged to.</summary>
    /// <value>Defaults to <see cref="RateLimitPartitionKind.ClientIp"/>. Configuration key: <c>...:Tiers:&lt;name&gt;:Partition</c>.</value>
    public RateLimitPartitionKind Partition { get; set; } = RateLimitPartitionKind.ClientIp;

    /// <summary>Gets or sets the claim type partitioned on with <see cref="RateLimitPartitionKind.Claim"/>.</summary>
    /// <value>Defaults to unset. Configuration key: <c>...:Tiers:&lt;name&gt;:PartitionClaim</c>.</value>
    public string? PartitionClaim { get; set; }

    /// <summary>
    /// Gets or sets a function giving the partition of a request (<see cref="RateLimitPartitionKind.Custom"/>, selected
    /// when set); <see langword="null"/> falls back to the client IP. Code only.
    /// </summary>
    public Func<HttpContext, string?>? PartitionResolver { get; set; }

    /// <summary>Gets or sets the tier's LLM token budget.</summary>
    /// <value>Defaults to none. Configuration key: <c>...:Tiers:&lt;name&gt;:TokenBudget</c>.</value>
    public RateLimitTokenBudget? TokenBudget { get; set; }

    /// <summary>Gets the per-plan overrides, by plan name (case-insensitive).</summary>
    /// <value>Configuration key: <c>...:Tiers:&lt;name&gt;:Plans:&lt;plan&gt;</c>.</value>
    public IDictionary<string, RateLimitPlan> Plans { get; } = new Dictionary<string, RateLimitPlan>(StringComparer.OrdinalIgnoreCase);
}
