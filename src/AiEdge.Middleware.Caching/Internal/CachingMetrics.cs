using System.Diagnostics;
using System.Diagnostics.Metrics;
using AiEdge.Middleware.Internal;
using Microsoft.AspNetCore.Http;

namespace AiEdge.Middleware.Caching.Internal;

/// <summary>
/// How the prediction cache and Idempotency-Key report a decision: a measurement on the suite's meter, a tag on the
/// request's activity, and a value of the request's <see cref="AiEdgeDecisionsFeature"/> for the access log. Tag
/// values are bounded (statuses, outcomes), never client-supplied strings.
/// </summary>
internal sealed class CachingMetrics
{
    private readonly Counter<long> _cacheRequests;
    private readonly UpDownCounter<long> _cacheStoredBytes;
    private readonly Counter<long> _cacheCoalesced;
    private readonly Counter<long> _idempotency;
    private readonly UpDownCounter<long> _idempotencyStoredBytes;
    private readonly UpDownCounter<long> _idempotencyStoredKeys;
    private readonly Counter<long> _idempotencyEvictions;
    private readonly Counter<long> _disconnects;

    public CachingMetrics(IMeterFactory meterFactory)
    {
        var meter = SharedInstruments.Meter(meterFactory);
        _cacheRequests = meter.CreateCounter<long>("aiedge.cache.requests", "{request}", "Prediction cache lookups, by status.");
        _cacheStoredBytes = meter.CreateUpDownCounter<long>("aiedge.cache.stored_bytes", "By", "Bytes held by the in-memory prediction cache.");
        _cacheCoalesced = meter.CreateCounter<long>("aiedge.cache.coalesced", "{request}", "Requests that waited for an identical in-flight request instead of running the model.");
        _idempotency = meter.CreateCounter<long>("aiedge.idempotency.requests", "{request}", "Requests carrying or requiring an Idempotency-Key, by outcome.");
        _idempotencyStoredBytes = meter.CreateUpDownCounter<long>("aiedge.idempotency.stored_bytes", "By", "Bytes held by the in-memory Idempotency-Key store (estimated; bounded by its SizeLimit).");
        _idempotencyStoredKeys = meter.CreateUpDownCounter<long>("aiedge.idempotency.stored_keys", "{key}", "Keys held by the in-memory Idempotency-Key store, running or completed.");
        _idempotencyEvictions = meter.CreateCounter<long>("aiedge.idempotency.evictions", "{record}", "Completed Idempotency-Key records evicted before their retention ended to make room.");
        _disconnects = SharedInstruments.ClientDisconnects(meter);
    }

    /// <summary>The prediction cache answered or passed a request.</summary>
    public void CacheResult(HttpContext? context, string status)
    {
        _cacheRequests.Add(1, new KeyValuePair<string, object?>(AiEdgeDiagnostics.Tags.CacheStatus, status));
        if (context is not null)
        {
            RequestFeatures.Get<AiEdgeDecisionsFeature>(context)?.Set(AiEdgeDiagnostics.Tags.CacheStatus, status);
            if (Activity.Current is { IsAllDataRequested: true } activity)
            {
                activity.SetTag(AiEdgeDiagnostics.Tags.CacheStatus, status);
            }
        }
    }

    /// <summary>The in-memory cache grew (positive) or shrank (negative) by <paramref name="bytes"/>.</summary>
    public void CacheStoredBytes(long bytes) => _cacheStoredBytes.Add(bytes);

    /// <summary>A request waited for an identical in-flight request.</summary>
    public void CacheCoalesced() => _cacheCoalesced.Add(1);

    /// <summary>An Idempotency-Key decision was taken.</summary>
    public void IdempotencyOutcome(HttpContext? context, string outcome)
    {
        _idempotency.Add(1, new KeyValuePair<string, object?>(AiEdgeDiagnostics.Tags.IdempotencyOutcome, outcome));
        if (context is not null)
        {
            RequestFeatures.Get<AiEdgeDecisionsFeature>(context)?.Set(AiEdgeDiagnostics.Tags.IdempotencyOutcome, outcome);
            Activity.Current?.SetTag(AiEdgeDiagnostics.Tags.IdempotencyOutcome, outcome);
        }
    }

    /// <summary>The in-memory Idempotency-Key store changed by <paramref name="bytes"/> and <paramref name="keys"/>, evicting <paramref name="evicted"/> completed records.</summary>
    public void IdempotencyStoreChanged(long bytes, int keys, int evicted)
    {
        if (bytes != 0)
        {
            _idempotencyStoredBytes.Add(bytes);
        }

        if (keys != 0)
        {
            _idempotencyStoredKeys.Add(keys);
        }

        if (evicted != 0)
        {
            _idempotencyEvictions.Add(evicted);
        }
    }

    /// <summary>A client went away while <paramref name="concern"/> was serving it.</summary>
    public void ClientDisconnected(string concern)
        => _disconnects.Add(1, new KeyValuePair<string, object?>(AiEdgeDiagnostics.Tags.Concern, concern));
}
