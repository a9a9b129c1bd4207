namespace AiEdge.Middleware.RateLimiting;

/// <summary>
/// A per-customer override of a tier (for example <c>free</c>, <c>pro</c>, <c>enterprise</c>), chosen by the caller's
/// plan (claim <c>aiedge:plan</c>, set from an API key's metadata or a token). Unset values inherit the tier's.
/// </summary>
public sealed class RateLimitPlan
{
    /// <summary>Gets or sets the plan's rate, written as NGINX writes it (<c>100r/s</c>).</summary>
    /// <value>Defaults to the tier's. Configuration key: <c>AiEdge:RateLimiting:Tiers:&lt;tier&gt;:Plans:&lt;plan&gt;:Rate</c>.</value>
    public string? Rate { get; set; }

    /// <summary>Gets or sets the plan's burst.</summary>
    /// <value>Defaults to the tier's. Configuration key: <c>...:Plans:&lt;plan&gt;:Burst</c>.</value>
    public int? Burst { get; set; }

    /// <summary>Gets or sets the plan's NGINX <c>delay=</c>.</summary>
    /// <value>Defaults to the tier's. Configuration key: <c>...:Plans:&lt;plan&gt;:Delay</c>.</value>
    public int? Delay { get; set; }

    /// <summary>Gets or sets whether the plan never delays.</summary>
    /// <value>Defaults to the tier's. Configuration key: <c>...:Plans:&lt;plan&gt;:NoDelay</c>.</value>
    public bool? NoDelay { get; set; }

    /// <summary>Gets or sets the plan's token budget per window.</summary>
    /// <value>Defaults to the tier's. Configuration key: <c>...:Plans:&lt;plan&gt;:Tokens</c>.</value>
    public long? Tokens { get; set; }

    /// <summary>Gets or sets the plan's token window (<c>1m</c>, <c>1d</c>).</summary>
    /// <value>Defaults to the tier's. Configuration key: <c>...:Plans:&lt;plan&gt;:TokenWindow</c>.</value>
    public string? TokenWindow { get; set; }
}
