using System.Collections.Concurrent;
using AiEdge.Middleware.Resilience;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.Model;

namespace AiEdge.Middleware.ReverseProxy.Internal;

/// <summary>Every destination's breaker, created on a destination's first proxied call.</summary>
internal sealed class DestinationBreakers(IOptions<AiEdgeReverseProxyOptions> options, IDestinationHealthUpdater health, TimeProvider time, ILoggerFactory loggers)
{
    private static readonly BreakerOptions Defaults = new();
    private readonly ConcurrentDictionary<DestinationState, DestinationBreaker> _breakers = new();
    private readonly ILogger _logger = loggers.CreateLogger("AiEdge.Middleware.ReverseProxy.DestinationBreaker");

    public TimeProvider Time => time;

    public DestinationBreaker Get(ClusterState cluster, DestinationState destination)
        => _breakers.TryGetValue(destination, out var breaker) ? breaker : Create(cluster, destination);

    public DestinationBreaker? Find(DestinationState destination) => _breakers.GetValueOrDefault(destination);

    /// <summary>Gets the time until the first destination of <paramref name="cluster"/> comes back, at least a second.</summary>
    public int RetryAfterSeconds(ClusterState cluster)
    {
        var now = time.GetUtcNow();
        var soonest = TimeSpan.MaxValue;
        foreach (var destination in cluster.Destinations.Values)
        {
            if (_breakers.TryGetValue(destination, out var breaker) && breaker.Remaining(now) is var left && left > TimeSpan.Zero && left < soonest)
            {
                soonest = left;
            }
        }

        return soonest == TimeSpan.MaxValue ? 1 : Math.Max(1, (int)Math.Ceiling(soonest.TotalSeconds));
    }

    /// <summary>
    /// Gets <paramref name="destinations"/> without those whose breaker is open or that are cooling down: the same
    /// list when none is out (no allocation). YARP's health state already leaves them out, except where its
    /// available-destinations policy falls back to every destination when none is healthy; this keeps them out then.
    /// </summary>
    public IReadOnlyList<DestinationState> Available(IReadOnlyList<DestinationState> destinations)
    {
        if (_breakers.IsEmpty)
        {
            return destinations;
        }

        var now = time.GetUtcNow();
        var unavailable = 0;
        for (var i = 0; i < destinations.Count; i++)
        {
            if (IsOut(destinations[i], now))
            {
                unavailable++;
            }
        }

        if (unavailable == 0)
        {
            return destinations;
        }

        var available = new DestinationState[destinations.Count - unavailable];
        var next = 0;
        for (var i = 0; i < destinations.Count; i++)
        {
            if (!IsOut(destinations[i], now))
            {
                available[next++] = destinations[i];
            }
        }

        return available;
    }

    private bool IsOut(DestinationState destination, DateTimeOffset now)
        => _breakers.TryGetValue(destination, out var breaker) && breaker.Remaining(now) > TimeSpan.Zero;

    private DestinationBreaker Create(ClusterState cluster, DestinationState destination)
    {
        var settings = options.Value.Breakers.TryGetValue(cluster.ClusterId, out var own) ? own : Defaults;
        return _breakers.GetOrAdd(destination, static (d, state) => new DestinationBreaker(state.cluster, d, state.settings, state.health, state.time, state.logger),
            (cluster, settings, health, time, logger: _logger));
    }
}
