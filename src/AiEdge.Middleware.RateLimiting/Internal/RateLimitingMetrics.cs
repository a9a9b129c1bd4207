using System.Diagnostics;
using System.Diagnostics.Metrics;
using AiEdge.Middleware.Internal;
using Microsoft.AspNetCore.Http;

namespace AiEdge.Middleware.RateLimiting.Internal;

/// <summary>
/// How rate limiting reports a decision: a measurement on the suite's meter, a tag on the request's activity, and a
/// value of the request's <see cref="AiEdgeDecisionsFeature"/> for the access log. Tag values are bounded (tier
/// names, decisions), never client-supplied strings.
/// </summary>
internal sealed class RateLimitingMetrics
{
    private readonly Counter<long> _rateLimitRequests;
    private readonly Counter<long> _rateLimitTableFull;
    private readonly Histogram<double> _retryAfter;
    private readonly Counter<long> _tokensUsed;
    private readonly Gauge<long> _tokensRemaining;
    private readonly Counter<long> _disconnects;
    private readonly List<Func<long>> _rateLimitPartitionSources = [];

    public RateLimitingMetrics(IMeterFactory meterFactory)
    {
        var meter = SharedInstruments.Meter(meterFactory);
        _rateLimitRequests = meter.CreateCounter<long>("aiedge.ratelimit.requests", "{request}", "Requests seen by a rate-limit tier, by decision.");
        _rateLimitTableFull = meter.CreateCounter<long>("aiedge.ratelimit.table_full", "{request}", "Requests of new partitions refused because the in-memory rate-limit table was full of active buckets, by tier.");
        _retryAfter = meter.CreateHistogram<double>("aiedge.ratelimit.retry_after", "s", "Retry-After values issued.");
        _tokensUsed = meter.CreateCounter<long>("aiedge.ratelimit.tokens.used", "{token}", "LLM tokens charged to token budgets after reconciliation.");
        _tokensRemaining = meter.CreateGauge<long>("aiedge.ratelimit.tokens.remaining", "{token}", "Remaining token budget of the last partition charged, by tier.");
        _disconnects = SharedInstruments.ClientDisconnects(meter);
        meter.CreateObservableGauge("aiedge.ratelimit.partitions", ObserveRateLimitPartitions, "{partition}", "Rate-limit buckets held in memory (bounded by AiEdge:RateLimiting:MaxPartitions).");
    }

    /// <summary>A rate-limit tier decided on a request.</summary>
    public void RateLimitDecision(HttpContext? context, string tier, string decision)
    {
        _rateLimitRequests.Add(1, new(AiEdgeDiagnostics.Tags.Tier, tier), new(AiEdgeDiagnostics.Tags.RateLimitDecision, decision));
        if (context is not null)
        {
            if (RequestFeatures.Get<AiEdgeDecisionsFeature>(context) is { } decisions)
            {
                decisions.Set(AiEdgeDiagnostics.Tags.Tier, tier);
                decisions.Set(AiEdgeDiagnostics.Tags.RateLimitDecision, decision);
            }

            if (Activity.Current is { IsAllDataRequested: true } activity)
            {
                activity.SetTag(AiEdgeDiagnostics.Tags.Tier, tier);
                activity.SetTag(AiEdgeDiagnostics.Tags.RateLimitDecision, decision);
            }
        }
    }

    /// <summary>A request of a new partition was refused because the rate-limit table was full of active buckets.</summary>
    public void RateLimitTableFull(string tier)
        => _rateLimitTableFull.Add(1, new KeyValuePair<string, object?>(AiEdgeDiagnostics.Tags.Tier, tier));

    /// <summary>A Retry-After value was sent.</summary>
    public void RetryAfterIssued(string tier, double seconds)
        => _retryAfter.Record(seconds, new KeyValuePair<string, object?>(AiEdgeDiagnostics.Tags.Tier, tier));

    /// <summary>Tokens were charged to a tier's budget; <paramref name="remaining"/> is what the partition has left.</summary>
    public void TokensCharged(string tier, long tokens, long remaining)
    {
        var tag = new KeyValuePair<string, object?>(AiEdgeDiagnostics.Tags.Tier, tier);
        _tokensUsed.Add(tokens, tag);
        _tokensRemaining.Record(remaining, tag);
    }

    /// <summary>A client went away while <paramref name="concern"/> was serving it.</summary>
    public void ClientDisconnected(string concern)
        => _disconnects.Add(1, new KeyValuePair<string, object?>(AiEdgeDiagnostics.Tags.Concern, concern));

    /// <summary>
    /// Registers a source of the number of rate-limit buckets an in-memory store holds, read whenever the
    /// <c>aiedge.ratelimit.partitions</c> gauge is collected (the sources are summed). The source must be cheap and thread-safe.
    /// </summary>
    public void AddRateLimitPartitionSource(Func<long> source)
    {
        ArgumentNullException.ThrowIfNull(source);
        lock (_rateLimitPartitionSources)
        {
            _rateLimitPartitionSources.Add(source);
        }
    }

    private IEnumerable<Measurement<long>> ObserveRateLimitPartitions()
    {
        long total = 0;
        lock (_rateLimitPartitionSources)
        {
            if (_rateLimitPartitionSources.Count == 0)
            {
                return [];
            }

            foreach (var source in _rateLimitPartitionSources)
            {
                total += source();
            }
        }

        return [new Measurement<long>(total)];
    }
}
