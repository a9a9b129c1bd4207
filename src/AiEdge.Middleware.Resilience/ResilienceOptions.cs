using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace AiEdge.Middleware.Resilience;

/// <summary>
/// Circuit breakers and backend pools, bound from the <c>AiEdge:Resilience</c> configuration section.
/// </summary>
public sealed class ResilienceOptions
{
    /// <summary>
    /// Gets the named circuit breakers. An endpoint protected with <c>.WithCircuitBreaker("name")</c> uses the entry
    /// of that name; a backend pool uses the entry named by <see cref="BackendOptions.Breaker"/>, else the entry with
    /// the backend's own name, else the defaults of <see cref="BreakerOptions"/>.
    /// </summary>
    /// <value>Empty by default. Configuration key: <c>AiEdge:Resilience:Breakers:{name}</c>.</value>
    public IDictionary<string, BreakerOptions> Breakers { get; } = new Dictionary<string, BreakerOptions>(StringComparer.OrdinalIgnoreCase);

    /// <summary>Gets the named backend pools: replicas of one OpenAI-compatible (or any HTTP) model backend.</summary>
    /// <value>Empty by default. Configuration key: <c>AiEdge:Resilience:Backends:{name}</c>.</value>
    public IDictionary<string, BackendOptions> Backends { get; } = new Dictionary<string, BackendOptions>(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// Gets or sets the health status the readiness endpoint reports for a breaker that is open (for a pool: every
    /// replica unavailable). A half-open breaker, or a pool with some replicas unavailable, reports
    /// <see cref="HealthStatus.Degraded"/>.
    /// </summary>
    /// <value>Defaults to <see cref="HealthStatus.Unhealthy"/>. Configuration key: <c>AiEdge:Resilience:OpenBreakerStatus</c>.</value>
    public HealthStatus OpenBreakerStatus { get; set; } = HealthStatus.Unhealthy;

    /// <summary>
    /// Gets what <see cref="ModelBackendClient.RelayAsync"/> relays of a backend's response headers.
    /// </summary>
    /// <value>Hop-by-hop, <c>Set-Cookie</c>, <c>Server</c>, <c>X-Powered-By</c> and <c>X-Internal-*</c> headers dropped. Configuration key: <c>AiEdge:Resilience:Relay</c>.</value>
    public BackendRelayOptions Relay { get; } = new();
}
