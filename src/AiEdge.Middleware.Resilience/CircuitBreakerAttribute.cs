namespace AiEdge.Middleware.Resilience;

/// <summary>
/// Protects an endpoint (a controller, an action or a minimal API handler) with the named circuit breaker; the
/// attribute form of <c>.WithCircuitBreaker("name")</c>.
/// </summary>
/// <param name="breakerName">The name of an entry of <c>AiEdge:Resilience:Breakers</c>.</param>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Method | AttributeTargets.Delegate, AllowMultiple = false)]
public sealed class CircuitBreakerAttribute(string breakerName) : Attribute, ICircuitBreakerMetadata
{
    /// <inheritdoc />
    public string BreakerName { get; } = !string.IsNullOrEmpty(breakerName) ? breakerName : throw new ArgumentException("A breaker name is required.", nameof(breakerName));
}
