using System.Collections.Concurrent;
using AiEdge.Middleware.Resilience;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Model;

namespace AiEdge.Middleware.ReverseProxy.Internal;

/// <summary>
/// Destination cool-downs (a backend's 429 or 503 with <c>Retry-After</c>) shared through the
/// <see cref="IBackendCooldownStore"/>. The replica that saw the answer takes the destination out locally at once
/// and records it in the store; before a call, each replica reads its cluster's cool-downs from the store (at most
/// once per <see cref="AiEdgeReverseProxyOptions.CooldownRefreshInterval"/>) and takes out locally those it did not
/// know, so <see cref="DestinationBreakers.Available"/> leaves them out. A store that is unreachable answers nothing:
/// each replica keeps its own cool-downs (fail-open).
/// </summary>
internal sealed class SharedCooldowns(IBackendCooldownStore store, DestinationBreakers breakers, IOptions<AiEdgeReverseProxyOptions> options, TimeProvider time)
{
    private readonly TimeSpan _interval = options.Value.CooldownRefreshInterval;
    private readonly ConcurrentDictionary<string, ClusterRefresh> _clusters = new(StringComparer.Ordinal);

    /// <summary>Cools <paramref name="destination"/> down for <paramref name="period"/>, here and for every replica.</summary>
    public ValueTask CoolDownAsync(ClusterState cluster, DestinationState destination, TimeSpan period)
    {
        var until = time.GetUtcNow() + period;
        breakers.Get(cluster, destination).CoolDownUntil(until);
        return store.CoolDownAsync(cluster.ClusterId, destination.DestinationId, until, CancellationToken.None);
    }

    /// <summary>
    /// Applies the cluster's cool-downs recorded by other replicas, when the last read is older than the refresh
    /// interval; completes synchronously otherwise.
    /// </summary>
    public ValueTask RefreshAsync(ClusterState cluster)
    {
        var now = time.GetUtcNow();
        var refresh = _clusters.GetOrAdd(cluster.ClusterId, static _ => new ClusterRefresh());
        lock (refresh)
        {
            if (now < refresh.Next)
            {
                return ValueTask.CompletedTask;
            }

            refresh.Next = now + _interval;
        }

        return ApplyAsync(cluster);
    }

    private async ValueTask ApplyAsync(ClusterState cluster)
    {
        var cooldowns = await store.GetCooldownsAsync(cluster.ClusterId, CancellationToken.None).ConfigureAwait(false);
        if (cooldowns.Count == 0)
        {
            return;
        }

        var now = time.GetUtcNow();
        var destinations = cluster.Destinations;
        foreach (var (id, until) in cooldowns)
        {
            if (until > now && destinations.TryGetValue(id, out var destination))
            {
                breakers.Get(cluster, destination).CoolDownUntil(until);
            }
        }
    }

    private sealed class ClusterRefresh
    {
        public DateTimeOffset Next { get; set; }
    }
}
