using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Polly.CircuitBreaker;

namespace AiEdge.Middleware.Resilience.Internal;

/// <summary>
/// Reports a named breaker or a backend pool to ASP.NET Core health checks (and so to <c>/readyz</c>): closed is
/// Healthy; half-open, or a pool with some replicas out, is Degraded; open, or a pool with every replica out, is
/// <see cref="ResilienceOptions.OpenBreakerStatus"/>. Reading the state costs a lock per replica, nothing more.
/// </summary>
internal sealed class BreakerHealthCheck(BreakerRegistry registry, string? breaker, string? backend, TimeProvider time) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var now = time.GetUtcNow();
        if (breaker is not null)
        {
            var circuit = registry.FindBreaker(breaker)!;
            var state = circuit.State;
            var data = new Dictionary<string, object> { ["state"] = StateName(state) };
            return Task.FromResult(state switch
            {
                CircuitState.Closed => HealthCheckResult.Healthy("Circuit breaker '" + breaker + "' is closed.", data),
                CircuitState.HalfOpen => HealthCheckResult.Degraded("Circuit breaker '" + breaker + "' is half-open.", data: data),
                _ => Open("Circuit breaker '" + breaker + "' is open.", circuit.RemainingBreak(now), data),
            });
        }

        var pool = registry.GetPool(backend!);
        var up = 0;
        var replicas = new Dictionary<string, object>();
        var soonest = TimeSpan.MaxValue;
        foreach (var replica in pool.Replicas)
        {
            var state = replica.State;
            var healthy = state == CircuitState.Closed && replica.ProbeHealthy;
            if (healthy)
            {
                up++;
            }
            else if (replica.RemainingBreak(now) is var wait && wait < soonest)
            {
                soonest = wait;
            }

            replicas[replica.Replica!] = replica.ProbeHealthy ? StateName(state) : "probe_failing";
        }

        var total = pool.Replicas.Length;
        var summary = "Backend '" + backend + "': " + up.ToString(System.Globalization.CultureInfo.InvariantCulture)
            + " of " + total.ToString(System.Globalization.CultureInfo.InvariantCulture) + " replicas available.";
        return Task.FromResult(up == total ? HealthCheckResult.Healthy(summary, replicas)
            : up > 0 ? HealthCheckResult.Degraded(summary, data: replicas)
            : Open(summary, soonest, replicas));
    }

    private HealthCheckResult Open(string description, TimeSpan remaining, Dictionary<string, object> data)
    {
        if (remaining > TimeSpan.Zero && remaining != TimeSpan.MaxValue)
        {
            data["retry_after_seconds"] = BackendProblemResponse.ToRetryAfterSeconds(remaining);
        }

        return new HealthCheckResult(registry.OpenBreakerStatus, description, data: data);
    }

    internal static string StateName(CircuitState state) => state switch
    {
        CircuitState.Closed => "closed",
        CircuitState.Open => "open",
        CircuitState.HalfOpen => "half_open",
        _ => "isolated",
    };
}

/// <summary>Adds one health check registration per configured breaker and backend pool.</summary>
internal sealed class BreakerHealthCheckRegistrations(IOptions<ResilienceOptions> options) : IConfigureOptions<HealthCheckServiceOptions>
{
    /// <summary>The tags of every breaker check.</summary>
    public static readonly string[] Tags = ["aiedge", "breaker", "ready"];

    public void Configure(HealthCheckServiceOptions health)
    {
        var value = options.Value;
        foreach (var name in value.Breakers.Keys)
        {
            var breaker = name;
            health.Registrations.Add(new HealthCheckRegistration(
                "breaker:" + breaker,
                sp => new BreakerHealthCheck(sp.GetRequiredService<BreakerRegistry>(), breaker, null, sp.GetRequiredService<TimeProvider>()),
                value.OpenBreakerStatus,
                Tags));
        }

        foreach (var name in value.Backends.Keys)
        {
            var backend = name;
            health.Registrations.Add(new HealthCheckRegistration(
                "backend:" + backend,
                sp => new BreakerHealthCheck(sp.GetRequiredService<BreakerRegistry>(), null, backend, sp.GetRequiredService<TimeProvider>()),
                value.OpenBreakerStatus,
                Tags));
        }
    }
}
