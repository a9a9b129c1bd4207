namespace AiEdge.Middleware.Resilience;

/// <summary>How a backend pool chooses a replica for a call.</summary>
public enum BackendSelection
{
    /// <summary>
    /// The available replica with the fewest calls in flight relative to its weight (streams count until their
    /// body is disposed), ties going round-robin. The NGINX <c>least_conn</c> with weights.
    /// </summary>
    LeastOutstanding = 0,

    /// <summary>
    /// Two available replicas drawn at random in proportion to their weights; the one with fewer calls in flight
    /// per unit of weight wins. Cheaper and less herd-prone than a full scan with many replicas (NGINX <c>random two</c>).
    /// </summary>
    PowerOfTwoChoices = 1,
}
