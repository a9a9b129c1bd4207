using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Microsoft.AspNetCore.Http;
using Yarp.ReverseProxy.LoadBalancing;
using Yarp.ReverseProxy.Model;

namespace AiEdge.Middleware.ReverseProxy.Internal;

/// <summary>
/// The load-balancing policy <c>WeightedRoundRobin</c>: NGINX's <c>server ... weight=N</c>, which YARP's built-in
/// policies lack. Each destination's weight is its <c>Metadata:Weight</c> (1 when absent). Smooth weighted
/// round-robin, as NGINX does it: every pick adds each available destination's weight to its running score, takes
/// the highest, and subtracts the total weight from it, so weights 3:1 give a, a, b, a rather than a, a, a, b, and a
/// destination that leaves the available set simply stops being counted.
/// </summary>
internal sealed class WeightedRoundRobinPolicy : ILoadBalancingPolicy
{
    public const string PolicyName = "WeightedRoundRobin";
    public const string WeightKey = "Weight";

    private readonly ConditionalWeakTable<ClusterState, Scores> _scores = new();

    public string Name => PolicyName;

    public DestinationState? PickDestination(HttpContext context, ClusterState cluster, IReadOnlyList<DestinationState> availableDestinations)
    {
        if (availableDestinations.Count <= 1)
        {
            return availableDestinations.Count == 0 ? null : availableDestinations[0];
        }

        return _scores.GetValue(cluster, static _ => new Scores()).Pick(availableDestinations);
    }

    /// <summary>Reads a destination's weight from its metadata; invalid or absent weights count as 1.</summary>
    public static int WeightOf(DestinationState destination)
        => destination.Model?.Config.Metadata is { } metadata
            && metadata.TryGetValue(WeightKey, out var text)
            && int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var weight)
            && weight > 0 ? weight : 1;

    private sealed class Scores
    {
        private readonly object _lock = new();
        private readonly Dictionary<DestinationState, long> _current = [];

        public DestinationState Pick(IReadOnlyList<DestinationState> destinations)
        {
            lock (_lock)
            {
                var total = 0L;
                DestinationState? best = null;
                var bestScore = long.MinValue;
                for (var i = 0; i < destinations.Count; i++)
                {
                    var destination = destinations[i];
                    var weight = WeightOf(destination);
                    total += weight;
                    ref var score = ref CollectionsMarshal.GetValueRefOrAddDefault(_current, destination, out _);
                    score += weight;
                    if (score > bestScore)
                    {
                        bestScore = score;
                        best = destination;
                    }
                }

                _current[best!] = bestScore - total;
                return best!;
            }
        }
    }
}
