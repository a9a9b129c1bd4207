namespace AiEdge.Middleware.Resilience;

/// <summary>Endpoint metadata naming the circuit breaker that protects an endpoint calling a model in-process.</summary>
public interface ICircuitBreakerMetadata
{
    /// <summary>Gets the name of an entry of <c>AiEdge:Resilience:Breakers</c>.</summary>
    string BreakerName { get; }
}
