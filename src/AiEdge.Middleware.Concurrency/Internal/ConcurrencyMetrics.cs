using System.Diagnostics;
using System.Diagnostics.Metrics;
using AiEdge.Middleware.Internal;
using Microsoft.AspNetCore.Http;

namespace AiEdge.Middleware.Concurrency.Internal;

/// <summary>
/// How concurrency tiers report: instruments on the suite's meter, tags on the request's activity, and values of the
/// request's <see cref="AiEdgeDecisionsFeature"/> for the access log. Tag values are bounded (tier names, decisions,
/// reasons), never a partition.
/// </summary>
internal sealed class ConcurrencyMetrics
{
    /// <summary>The tier name tag, and the access-log decision of that name.</summary>
    public const string TierTag = "aiedge.concurrency.tier";

    /// <summary>The decision tag: <c>admitted</c>, <c>queued</c> (admitted after a wait), <c>rejected</c>, <c>abandoned</c>, <c>store_failed</c>.</summary>
    public const string DecisionTag = "aiedge.concurrency.decision";

    /// <summary>The access-log number of seconds a request waited in a tier's queue.</summary>
    public const string QueueWait = "aiedge.concurrency.queue_wait";

    /// <summary>Which bound a limit gauge reports: <c>current</c>, <c>min</c>, <c>max</c>.</summary>
    /// <summary>The rejection reason (<c>queue_full</c>, <c>queue_timeout</c>) in the access log's decisions.</summary>
    public const string ReasonDecision = "aiedge.concurrency.reason";

    public const string BoundTag = "aiedge.concurrency.bound";

    public const string Admitted = "admitted";
    public const string Queued = "queued";
    public const string Rejected = "rejected";
    public const string Abandoned = "abandoned";
    public const string StoreFailed = "store_failed";
    public const string QueueFull = "queue_full";
    public const string QueueTimeout = "queue_timeout";

    private readonly Counter<long> _requests;
    private readonly UpDownCounter<long> _inFlight;
    private readonly UpDownCounter<long> _queued;
    private readonly Histogram<double> _queueWait;
    private readonly Counter<long> _rejections;
    private readonly Counter<long> _disconnects;
    private ConcurrencyTierRegistry? _registry;

    public ConcurrencyMetrics(IMeterFactory meterFactory)
    {
        var meter = SharedInstruments.Meter(meterFactory);
        _requests = meter.CreateCounter<long>("aiedge.concurrency.requests", "{request}", "Requests seen by a concurrency tier, by decision (and reason for rejections).");
        _inFlight = meter.CreateUpDownCounter<long>("aiedge.concurrency.in_flight", "{request}", "Requests holding a slot of a concurrency tier.");
        _queued = meter.CreateUpDownCounter<long>("aiedge.concurrency.queued", "{request}", "Requests waiting in a concurrency tier's queue.");
        _queueWait = meter.CreateHistogram<double>("aiedge.concurrency.queue_wait", "s", "Time requests waited in a concurrency tier's queue, by outcome.");
        _rejections = SharedInstruments.Rejections(meter);
        _disconnects = SharedInstruments.ClientDisconnects(meter);
        meter.CreateObservableGauge("aiedge.concurrency.limit", ObserveLimits, "{request}", "The limit of each concurrency tier: current value, and floor and ceiling of an adaptive limit (tag aiedge.concurrency.bound).");
    }

    /// <summary>Lets the limit gauge read the tiers.</summary>
    public void Observe(ConcurrencyTierRegistry registry) => _registry = registry;

    public void Decided(HttpContext context, string tier, string decision)
    {
        _requests.Add(1, new KeyValuePair<string, object?>(TierTag, tier), new KeyValuePair<string, object?>(DecisionTag, decision));
        Record(context, tier, decision);
    }

    public void Refused(HttpContext context, string tier, string reason)
    {
        _requests.Add(1, new KeyValuePair<string, object?>(TierTag, tier), new KeyValuePair<string, object?>(DecisionTag, Rejected), new KeyValuePair<string, object?>(AiEdgeDiagnostics.Tags.Reason, reason));
        _rejections.Add(1, new KeyValuePair<string, object?>(AiEdgeDiagnostics.Tags.Concern, "concurrency"), new KeyValuePair<string, object?>(AiEdgeDiagnostics.Tags.Reason, reason));
        Record(context, tier, Rejected);
        RequestFeatures.Get<AiEdgeDecisionsFeature>(context)?.Set(ReasonDecision, reason);
    }

    public void SlotTaken(string tier) => _inFlight.Add(1, new KeyValuePair<string, object?>(TierTag, tier));

    public void SlotReleased(string tier) => _inFlight.Add(-1, new KeyValuePair<string, object?>(TierTag, tier));

    public void Enqueued(string tier) => _queued.Add(1, new KeyValuePair<string, object?>(TierTag, tier));

    public void Dequeued(HttpContext context, string tier, string outcome, double seconds)
    {
        _queued.Add(-1, new KeyValuePair<string, object?>(TierTag, tier));
        _queueWait.Record(seconds, new KeyValuePair<string, object?>(TierTag, tier), new KeyValuePair<string, object?>(DecisionTag, outcome));
        RequestFeatures.Get<AiEdgeDecisionsFeature>(context)?.Add(QueueWait, seconds);
    }

    public void ClientDisconnected(HttpContext context, string tier)
    {
        _disconnects.Add(1, new KeyValuePair<string, object?>(AiEdgeDiagnostics.Tags.Concern, "concurrency"));
        Decided(context, tier, Abandoned);
    }

    private static void Record(HttpContext context, string tier, string decision)
    {
        if (RequestFeatures.Get<AiEdgeDecisionsFeature>(context) is { } decisions)
        {
            decisions.Set(TierTag, tier);
            decisions.Set(DecisionTag, decision);
        }

        if (Activity.Current is { IsAllDataRequested: true } activity)
        {
            activity.SetTag(TierTag, tier);
            activity.SetTag(DecisionTag, decision);
        }
    }

    private IEnumerable<Measurement<int>> ObserveLimits()
    {
        if (_registry is null)
        {
            return [];
        }

        var measurements = new List<Measurement<int>>();
        foreach (var tier in _registry.All)
        {
            measurements.Add(new Measurement<int>(tier.CurrentLimit, new KeyValuePair<string, object?>(TierTag, tier.Name), new KeyValuePair<string, object?>(BoundTag, "current")));
            if (tier.Adaptive is { } adaptive)
            {
                measurements.Add(new Measurement<int>(adaptive.Min, new KeyValuePair<string, object?>(TierTag, tier.Name), new KeyValuePair<string, object?>(BoundTag, "min")));
                measurements.Add(new Measurement<int>(adaptive.Max, new KeyValuePair<string, object?>(TierTag, tier.Name), new KeyValuePair<string, object?>(BoundTag, "max")));
            }
        }

        return measurements;
    }
}
