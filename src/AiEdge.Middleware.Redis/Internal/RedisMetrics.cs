using System.Diagnostics.Metrics;
using AiEdge.Middleware.Internal;

namespace AiEdge.Middleware.Redis.Internal;

/// <summary>What the Redis stores and connection report on the suite's meter.</summary>
internal sealed class RedisMetrics
{
    private readonly Histogram<double> _redisDuration;
    private readonly Counter<long> _redisFallbacks;
    private readonly Counter<long> _rejections;
    private readonly Counter<long> _topologyErrors;

    public RedisMetrics(IMeterFactory meterFactory)
    {
        var meter = SharedInstruments.Meter(meterFactory);
        _redisDuration = meter.CreateHistogram<double>("aiedge.redis.duration", "s", "Duration of Redis commands, by command and outcome.");
        _redisFallbacks = meter.CreateCounter<long>("aiedge.redis.fallbacks", "{decision}", "Decisions taken locally because Redis was unavailable, by concern.");
        _rejections = SharedInstruments.Rejections(meter);
        _topologyErrors = meter.CreateCounter<long>("aiedge.redis.topology_errors", "{error}", "Redis replies meaning the cluster topology or key layout is wrong (MOVED, ASK, CROSSSLOT, CLUSTERDOWN, READONLY, TRYAGAIN), by kind.");
    }

    /// <summary>A Redis command completed.</summary>
    public void RedisCommand(string command, double seconds, string outcome)
        => _redisDuration.Record(seconds, new(AiEdgeDiagnostics.Tags.Command, command), new(AiEdgeDiagnostics.Tags.Outcome, outcome));

    /// <summary>Redis answered with a topology error of <paramref name="kind"/>.</summary>
    public void TopologyError(string kind)
        => _topologyErrors.Add(1, new KeyValuePair<string, object?>("error.type", kind));

    /// <summary>A decision of <paramref name="concern"/> was taken locally because Redis was unavailable.</summary>
    public void RedisFallback(string concern)
        => _redisFallbacks.Add(1, new KeyValuePair<string, object?>(AiEdgeDiagnostics.Tags.Concern, concern));

    /// <summary>A concern refused a request, for a bounded reason.</summary>
    public void Rejected(string concern, string reason)
        => _rejections.Add(1, new(AiEdgeDiagnostics.Tags.Concern, concern), new(AiEdgeDiagnostics.Tags.Reason, reason));
}
