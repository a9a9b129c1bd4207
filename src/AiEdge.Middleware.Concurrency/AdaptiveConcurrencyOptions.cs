namespace AiEdge.Middleware.Concurrency;

/// <summary>
/// An adaptive limit for a tier (opt-in): additive increase while the backend answers near its uncongested latency,
/// multiplicative decrease when it slows down (AIMD on latency, in the manner of Envoy's adaptive concurrency filter
/// and Netflix's concurrency-limits). The tier's <see cref="ConcurrencyTier.Limit"/> is where it starts.
/// </summary>
public sealed class AdaptiveConcurrencyOptions
{
    /// <summary>Gets or sets whether the tier's limit adapts.</summary>
    /// <value>Defaults to <see langword="false"/>. Configuration key: <c>AiEdge:Concurrency:Tiers:&lt;name&gt;:Adaptive:Enabled</c>.</value>
    public bool Enabled { get; set; }

    /// <summary>Gets or sets the floor: the limit never falls below it.</summary>
    /// <value>Defaults to 1. Configuration key: <c>...:Adaptive:MinLimit</c>.</value>
    public int MinLimit { get; set; } = 1;

    /// <summary>Gets or sets the ceiling: the limit never rises above it.</summary>
    /// <value>Defaults to 1000. Configuration key: <c>...:Adaptive:MaxLimit</c>.</value>
    public int MaxLimit { get; set; } = 1000;

    /// <summary>
    /// Gets or sets how much slower than the uncongested latency (the least latency of recent windows) a window's
    /// average may be before the limit shrinks by <see cref="BackoffRatio"/>.
    /// </summary>
    /// <value>Defaults to 1.25. Configuration key: <c>...:Adaptive:Tolerance</c>.</value>
    public double Tolerance { get; set; } = ConcurrencyDefaults.Tolerance;

    /// <summary>Gets or sets the factor the limit is multiplied by on congestion (between 0 and 1).</summary>
    /// <value>Defaults to 0.9. Configuration key: <c>...:Adaptive:BackoffRatio</c>.</value>
    public double BackoffRatio { get; set; } = ConcurrencyDefaults.BackoffRatio;
}
