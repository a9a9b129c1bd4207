using System.Collections.Frozen;
using AiEdge.Middleware.Internal;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AiEdge.Middleware.Resilience.Internal;

/// <summary>Every circuit of the application, built once from validated options: named breakers and backend pools.</summary>
internal sealed class BreakerRegistry
{
    private readonly FrozenDictionary<string, Circuit> _breakers;
    private readonly FrozenDictionary<string, BackendPool> _pools;

    public BreakerRegistry(IOptions<ResilienceOptions> options, TimeProvider time, ResilienceMetrics metrics, ILoggerFactory loggers)
    {
        var value = options.Value;
        OpenBreakerStatus = value.OpenBreakerStatus;
        var logger = loggers.CreateLogger("AiEdge.Middleware.Resilience.CircuitBreaker");

        var breakers = new Dictionary<string, Circuit>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, breaker) in value.Breakers)
        {
            breakers[name] = new Circuit(name, null, null, 1, null, breaker, time, metrics, logger);
        }

        var pools = new Dictionary<string, BackendPool>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, backend) in value.Backends)
        {
            var settings = SettingsFor(value, name, backend);
            var replicas = new Circuit[backend.Replicas.Count];
            for (var i = 0; i < replicas.Length; i++)
            {
                var replica = backend.Replicas[i];
                var baseUri = NormalizeBase(new Uri(replica.Url!, UriKind.Absolute));
                var healthUri = replica.HealthUrl is { Length: > 0 } health ? new Uri(health, UriKind.Absolute)
                    : backend.HealthPath is { Length: > 0 } path ? new Uri(baseUri, path.TrimStart('/'))
                    : null;
                replicas[i] = new Circuit(name, ReplicaName(replica, baseUri), baseUri, replica.Weight, healthUri, settings, time, metrics, logger);
            }

            pools[name] = new BackendPool(name, replicas, backend.Selection, settings, backend, time);
        }

        _breakers = breakers.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);
        _pools = pools.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);
        metrics.AddBreakerStateSource(ObserveStates);
    }

    public Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus OpenBreakerStatus { get; }

    public IEnumerable<Circuit> Breakers => _breakers.Values;

    public IEnumerable<BackendPool> Pools => _pools.Values;

    public Circuit? FindBreaker(string name) => _breakers.GetValueOrDefault(name);

    public BackendPool GetPool(string name)
        => _pools.GetValueOrDefault(name)
            ?? throw new InvalidOperationException("Backend '" + name + "' is not configured under AiEdge:Resilience:Backends.");

    public static BreakerOptions SettingsFor(ResilienceOptions options, string backendName, BackendOptions backend)
    {
        if (backend.Breaker is { Length: > 0 } named && options.Breakers.TryGetValue(named, out var chosen))
        {
            return chosen;
        }

        return options.Breakers.TryGetValue(backendName, out var own) ? own : new BreakerOptions();
    }

    /// <summary>The state of every circuit, for the <c>aiedge.breaker.state</c> gauge: breakers by name, replicas as <c>pool/replica</c>.</summary>
    private IEnumerable<KeyValuePair<string, string>> ObserveStates()
    {
        foreach (var circuit in _breakers.Values)
        {
            yield return new(circuit.DisplayName, BreakerHealthCheck.StateName(circuit.State));
        }

        foreach (var pool in _pools.Values)
        {
            foreach (var replica in pool.Replicas)
            {
                yield return new(replica.DisplayName, BreakerHealthCheck.StateName(replica.State));
            }
        }
    }

    private static string ReplicaName(BackendReplicaOptions replica, Uri baseUri)
        => replica.Name is { Length: > 0 } name ? name : baseUri.Authority;

    private static Uri NormalizeBase(Uri uri)
        => uri.AbsolutePath.EndsWith('/') ? uri : new Uri(uri.GetLeftPart(UriPartial.Path) + "/" + uri.Query);
}
