using System.Net;

namespace AiEdge.Middleware.Resilience.Internal;

/// <summary>
/// The replicas of one backend and the choice among them. Selection reads each replica's state and in-flight
/// count without locking the pool; exclusions of one call are bit masks, so choosing allocates nothing.
/// </summary>
internal sealed class BackendPool
{
    public const int MaxReplicas = 64;

    private readonly TimeProvider _time;

    public BackendPool(string name, Circuit[] replicas, BackendSelection selection, BreakerOptions settings, BackendOptions options, TimeProvider time)
    {
        Name = name;
        Replicas = replicas;
        Selection = selection;
        Settings = settings;
        Options = options;
        _time = time;
    }

    public string Name { get; }

    public Circuit[] Replicas { get; }

    public BackendSelection Selection { get; }

    /// <summary>
    /// Gets the breaker settings of the pool: each replica's breaker and attempt timeout, and the total timeout and
    /// retries of the client's resilience handler.
    /// </summary>
    public BreakerOptions Settings { get; }

    public BackendOptions Options { get; }

    /// <summary>
    /// Chooses an available replica not in <paramref name="refused"/>, preferring one not in <paramref name="tried"/>;
    /// returns -1 when none is available.
    /// </summary>
    public int Select(ulong refused, ulong tried)
    {
        var now = _time.GetUtcNow();
        return Selection == BackendSelection.PowerOfTwoChoices
            ? SelectTwoChoices(now, refused, tried)
            : SelectLeastOutstanding(now, refused, tried);
    }

    /// <summary>The answer when no replica can take the call: 503 with the earliest time one may.</summary>
    public BackendProblemResponse Unavailable()
    {
        var now = _time.GetUtcNow();
        var soonest = TimeSpan.MaxValue;
        foreach (var replica in Replicas)
        {
            var wait = replica.ProbeHealthy ? replica.RemainingBreak(now) : Options.ProbeInterval;
            if (wait < soonest)
            {
                soonest = wait;
            }
        }

        return new BackendProblemResponse(
            HttpStatusCode.ServiceUnavailable,
            "Model backend unavailable",
            "Every replica of backend '" + Name + "' is refused by its circuit breaker or failing its health probes.",
            BackendProblemResponse.ToRetryAfterSeconds(soonest));
    }

    private int SelectLeastOutstanding(DateTimeOffset now, ulong refused, ulong tried)
    {
        // Calls in flight per unit of weight, lowest wins (NGINX least_conn); replicas this call has not tried
        // come first; ties are broken at random in proportion to weight, so an idle pool spreads by weight.
        var replicas = Replicas;
        var best = -1;
        var bestTried = true;
        var bestLoad = double.MaxValue;
        var tieWeight = 0;
        for (var i = 0; i < replicas.Length; i++)
        {
            var bit = 1UL << i;
            if ((refused & bit) != 0 || !replicas[i].IsAvailable(now))
            {
                continue;
            }

            var wasTried = (tried & bit) != 0;
            var weight = replicas[i].Weight;
            var load = replicas[i].Outstanding / (double)weight;
            if (best < 0 || (bestTried && !wasTried) || (wasTried == bestTried && load < bestLoad))
            {
                best = i;
                bestTried = wasTried;
                bestLoad = load;
                tieWeight = weight;
            }
            else if (wasTried == bestTried && load == bestLoad)
            {
                tieWeight += weight;
                if (Random.Shared.Next(tieWeight) < weight)
                {
                    best = i;
                }
            }
        }

        return best;
    }

    private int SelectTwoChoices(DateTimeOffset now, ulong refused, ulong tried)
    {
        var replicas = Replicas;
        ulong eligible = 0;
        var totalWeight = 0;
        for (var i = 0; i < replicas.Length; i++)
        {
            var bit = 1UL << i;
            if ((refused & bit) == 0 && replicas[i].IsAvailable(now))
            {
                eligible |= bit;
                totalWeight += replicas[i].Weight;
            }
        }

        if (eligible == 0)
        {
            return -1;
        }

        // Prefer replicas this call has not tried yet, when there are any.
        var untried = eligible & ~tried;
        if (untried != 0 && untried != eligible)
        {
            eligible = untried;
            totalWeight = 0;
            for (var i = 0; i < replicas.Length; i++)
            {
                if ((eligible & (1UL << i)) != 0)
                {
                    totalWeight += replicas[i].Weight;
                }
            }
        }

        var first = DrawWeighted(eligible, totalWeight);
        var rest = eligible & ~(1UL << first);
        if (rest == 0)
        {
            return first;
        }

        var second = DrawWeighted(rest, totalWeight - replicas[first].Weight);
        var firstLoad = replicas[first].Outstanding / (double)replicas[first].Weight;
        var secondLoad = replicas[second].Outstanding / (double)replicas[second].Weight;
        return secondLoad < firstLoad ? second : first;
    }

    private int DrawWeighted(ulong candidates, int totalWeight)
    {
        var pick = Random.Shared.Next(totalWeight);
        var last = -1;
        for (var i = 0; i < Replicas.Length; i++)
        {
            if ((candidates & (1UL << i)) == 0)
            {
                continue;
            }

            last = i;
            pick -= Replicas[i].Weight;
            if (pick < 0)
            {
                return i;
            }
        }

        return last;
    }
}
