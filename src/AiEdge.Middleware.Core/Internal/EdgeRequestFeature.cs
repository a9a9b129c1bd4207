namespace AiEdge.Middleware.Internal;

/// <summary>
/// The edge decisions taken for one request, present only when a reader (the access log) asked for them by
/// adding the feature at the start of the pipeline. Concerns record through <see cref="AiEdgeMetrics"/>.
/// </summary>
internal sealed class EdgeRequestFeature
{
    public string? RateLimitTier { get; set; }

    public string? RateLimitDecision { get; set; }

    public string? CacheStatus { get; set; }

    public string? IdempotencyOutcome { get; set; }

    public string? Breaker { get; set; }

    public string? BackendReplica { get; set; }

    public double BackendSeconds { get; set; } = double.NaN;

    public int? BackendStatus { get; set; }

    public void Reset()
    {
        RateLimitTier = null;
        RateLimitDecision = null;
        CacheStatus = null;
        IdempotencyOutcome = null;
        Breaker = null;
        BackendReplica = null;
        BackendSeconds = double.NaN;
        BackendStatus = null;
    }
}
