using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.AspNetCore.Http;

namespace AiEdge.Middleware.Internal;

/// <summary>
/// The one way every concern reports a decision: a measurement on the suite's meter, a tag on the request's
/// activity, and a field of the request's <see cref="EdgeRequestFeature"/> for the access log. Tag values must be
/// bounded (tier names, statuses, configured backend names), never client-supplied strings.
/// </summary>
internal sealed class AiEdgeMetrics
{
    private readonly Counter<long> _rateLimitRequests;
    private readonly Counter<long> _rateLimitTableFull;
    private readonly Histogram<double> _retryAfter;
    private readonly Counter<long> _tokensUsed;
    private readonly Gauge<long> _tokensRemaining;
    private readonly Counter<long> _cacheRequests;
    private readonly UpDownCounter<long> _cacheStoredBytes;
    private readonly Counter<long> _cacheCoalesced;
    private readonly Counter<long> _idempotency;
    private readonly UpDownCounter<long> _idempotencyStoredBytes;
    private readonly UpDownCounter<long> _idempotencyStoredKeys;
    private readonly Counter<long> _idempotencyEvictions;
    private readonly UpDownCounter<long> _streamsActive;
    private readonly Histogram<double> _streamDuration;
    private readonly Histogram<double> _timeToFirstEvent;
    private readonly Counter<long> _heartbeats;
    private readonly Counter<long> _disconnects;
    private readonly Counter<long> _breakerTransitions;
    private readonly Histogram<double> _backendDuration;
    private readonly Counter<long> _backendBrokenStreams;
    private readonly Histogram<double> _redisDuration;
    private readonly Counter<long> _redisFallbacks;
    private readonly Counter<long> _rejections;
    private readonly List<Func<IEnumerable<KeyValuePair<string, string>>>> _breakerStateSources = [];
    private readonly List<Func<long>> _rateLimitPartitionSources = [];

    public AiEdgeMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = meterFactory.Create(AiEdgeDiagnostics.MeterName);
        _rateLimitRequests = meter.CreateCounter<long>("aiedge.ratelimit.requests", "{request}", "Requests seen by a rate-limit tier, by decision.");
        _rateLimitTableFull = meter.CreateCounter<long>("aiedge.ratelimit.table_full", "{request}", "Requests of new partitions refused because the in-memory rate-limit table was full of active buckets, by tier.");
        _retryAfter = meter.CreateHistogram<double>("aiedge.ratelimit.retry_after", "s", "Retry-After values issued.");
        _tokensUsed = meter.CreateCounter<long>("aiedge.ratelimit.tokens.used", "{token}", "LLM tokens charged to token budgets after reconciliation.");
        _tokensRemaining = meter.CreateGauge<long>("aiedge.ratelimit.tokens.remaining", "{token}", "Remaining token budget of the last partition charged, by tier.");
        _cacheRequests = meter.CreateCounter<long>("aiedge.cache.requests", "{request}", "Prediction cache lookups, by status.");
        _cacheStoredBytes = meter.CreateUpDownCounter<long>("aiedge.cache.stored_bytes", "By", "Bytes held by the in-memory prediction cache.");
        _cacheCoalesced = meter.CreateCounter<long>("aiedge.cache.coalesced", "{request}", "Requests that waited for an identical in-flight request instead of running the model.");
        _idempotency = meter.CreateCounter<long>("aiedge.idempotency.requests", "{request}", "Requests carrying or requiring an Idempotency-Key, by outcome.");
        _idempotencyStoredBytes = meter.CreateUpDownCounter<long>("aiedge.idempotency.stored_bytes", "By", "Bytes held by the in-memory Idempotency-Key store (estimated; bounded by its SizeLimit).");
        _idempotencyStoredKeys = meter.CreateUpDownCounter<long>("aiedge.idempotency.stored_keys", "{key}", "Keys held by the in-memory Idempotency-Key store, running or completed.");
        _idempotencyEvictions = meter.CreateCounter<long>("aiedge.idempotency.evictions", "{record}", "Completed Idempotency-Key records evicted before their retention ended to make room.");
        _streamsActive = meter.CreateUpDownCounter<long>("aiedge.stream.active", "{stream}", "Event streams currently open.");
        _streamDuration = meter.CreateHistogram<double>("aiedge.stream.duration", "s", "Duration of event streams.");
        _timeToFirstEvent = meter.CreateHistogram<double>("aiedge.stream.time_to_first_event", "s", "Time from request start to the first event written.");
        _heartbeats = meter.CreateCounter<long>("aiedge.stream.heartbeats", "{heartbeat}", "Heartbeat comments written to idle streams.");
        _disconnects = meter.CreateCounter<long>("aiedge.client.disconnects", "{request}", "Requests whose client went away before the response completed.");
        _breakerTransitions = meter.CreateCounter<long>("aiedge.breaker.transitions", "{transition}", "Circuit breaker state transitions, by breaker and new state.");
        _backendDuration = meter.CreateHistogram<double>("aiedge.backend.duration", "s", "Duration of calls to model backends, by breaker, replica and outcome.");
        _backendBrokenStreams = meter.CreateCounter<long>("aiedge.backend.broken_streams", "{stream}", "Backend responses whose body broke after the headers arrived, by breaker and replica.");
        _redisDuration = meter.CreateHistogram<double>("aiedge.redis.duration", "s", "Duration of Redis commands, by command and outcome.");
        _redisFallbacks = meter.CreateCounter<long>("aiedge.redis.fallbacks", "{decision}", "Decisions taken locally because Redis was unavailable, by concern.");
        _rejections = meter.CreateCounter<long>("aiedge.rejections", "{request}", "Requests refused by a concern other than rate limiting (authentication, body limit, CORS, forwarded headers), by concern and reason.");
        meter.CreateObservableGauge("aiedge.ratelimit.partitions", ObserveRateLimitPartitions, "{partition}", "Rate-limit buckets held in memory (bounded by AiEdge:RateLimiting:MaxPartitions).");
        meter.CreateObservableGauge("aiedge.breaker.state", ObserveBreakerStates, "{breaker}", "The current state of each circuit breaker: 1 for the state it is in, by breaker and state.");
    }

    /// <summary>A rate-limit tier decided on a request.</summary>
    public void RateLimitDecision(HttpContext? context, string tier, string decision)
    {
        _rateLimitRequests.Add(1, new(AiEdgeDiagnostics.Tags.Tier, tier), new(AiEdgeDiagnostics.Tags.RateLimitDecision, decision));
        if (context is not null)
        {
            if (context.Features.Get<EdgeRequestFeature>() is { } feature)
            {
                feature.RateLimitTier = tier;
                feature.RateLimitDecision = decision;
            }

            if (Activity.Current is { IsAllDataRequested: true } activity)
            {
                activity.SetTag(AiEdgeDiagnostics.Tags.Tier, tier);
                activity.SetTag(AiEdgeDiagnostics.Tags.RateLimitDecision, decision);
            }
        }
    }

    /// <summary>
    /// A backend broke its response body after the headers arrived (the Resilience relay and the Streaming relay).
    /// <paramref name="breaker"/> is the breaker of the call, or the backend's authority when there is none.
    /// </summary>
    public void BackendStreamBroken(string breaker, string? replica)
        => _backendBrokenStreams.Add(1, new(AiEdgeDiagnostics.Tags.Breaker, breaker), new(AiEdgeDiagnostics.Tags.Replica, replica));

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

    /// <summary>The prediction cache answered or passed a request.</summary>
    public void CacheResult(HttpContext? context, string status)
    {
        _cacheRequests.Add(1, new KeyValuePair<string, object?>(AiEdgeDiagnostics.Tags.CacheStatus, status));
        if (context is not null)
        {
            if (context.Features.Get<EdgeRequestFeature>() is { } feature)
            {
                feature.CacheStatus = status;
            }

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
            if (context.Features.Get<EdgeRequestFeature>() is { } feature)
            {
                feature.IdempotencyOutcome = outcome;
            }

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

    /// <summary>An event stream opened.</summary>
    public void StreamStarted() => _streamsActive.Add(1);

    /// <summary>An event stream closed after <paramref name="seconds"/>.</summary>
    public void StreamEnded(double seconds, bool clientDisconnected)
    {
        _streamsActive.Add(-1);
        _streamDuration.Record(seconds);
        if (clientDisconnected)
        {
            ClientDisconnected("stream");
        }
    }

    /// <summary>The first event of a stream was written <paramref name="seconds"/> after the request started.</summary>
    public void TimeToFirstEvent(double seconds) => _timeToFirstEvent.Record(seconds);

    /// <summary>A heartbeat comment was written.</summary>
    public void Heartbeat() => _heartbeats.Add(1);

    /// <summary>A client went away while <paramref name="concern"/> was serving it.</summary>
    public void ClientDisconnected(string concern)
        => _disconnects.Add(1, new KeyValuePair<string, object?>(AiEdgeDiagnostics.Tags.Concern, concern));

    /// <summary>A circuit breaker changed state.</summary>
    public void BreakerTransition(string breaker, string state)
        => _breakerTransitions.Add(1, new(AiEdgeDiagnostics.Tags.Breaker, breaker), new(AiEdgeDiagnostics.Tags.BreakerState, state));

    /// <summary>
    /// Registers a source of the current state of breakers (pairs of breaker name and state, e.g. <c>("llm", "open")</c>),
    /// read whenever the <c>aiedge.breaker.state</c> gauge is collected. The source must be cheap and thread-safe.
    /// </summary>
    public void AddBreakerStateSource(Func<IEnumerable<KeyValuePair<string, string>>> source)
    {
        ArgumentNullException.ThrowIfNull(source);
        lock (_breakerStateSources)
        {
            _breakerStateSources.Add(source);
        }
    }

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

    private IEnumerable<Measurement<int>> ObserveBreakerStates()
    {
        Func<IEnumerable<KeyValuePair<string, string>>>[] sources;
        lock (_breakerStateSources)
        {
            if (_breakerStateSources.Count == 0)
            {
                return [];
            }

            sources = [.. _breakerStateSources];
        }

        var measurements = new List<Measurement<int>>();
        foreach (var source in sources)
        {
            foreach (var (breaker, state) in source())
            {
                measurements.Add(new Measurement<int>(1, new(AiEdgeDiagnostics.Tags.Breaker, breaker), new(AiEdgeDiagnostics.Tags.BreakerState, state)));
            }
        }

        return measurements;
    }

    /// <summary>A backend call completed.</summary>
    public void BackendCall(HttpContext? context, string breaker, string? replica, double seconds, string outcome, int? statusCode = null)
    {
        _backendDuration.Record(seconds, new(AiEdgeDiagnostics.Tags.Breaker, breaker), new(AiEdgeDiagnostics.Tags.Replica, replica), new(AiEdgeDiagnostics.Tags.Outcome, outcome));
        if (context is not null)
        {
            if (context.Features.Get<EdgeRequestFeature>() is { } feature)
            {
                feature.Breaker = breaker;
                feature.BackendReplica = replica;
                feature.BackendSeconds = double.IsNaN(feature.BackendSeconds) ? seconds : feature.BackendSeconds + seconds;
                feature.BackendStatus = statusCode;
            }

            if (Activity.Current is { IsAllDataRequested: true } activity)
            {
                activity.SetTag(AiEdgeDiagnostics.Tags.Breaker, breaker);
                activity.SetTag(AiEdgeDiagnostics.Tags.Replica, replica);
            }
        }
    }

    /// <summary>A Redis command completed.</summary>
    public void RedisCommand(string command, double seconds, string outcome)
        => _redisDuration.Record(seconds, new(AiEdgeDiagnostics.Tags.Command, command), new(AiEdgeDiagnostics.Tags.Outcome, outcome));

    /// <summary>A decision of <paramref name="concern"/> was taken locally because Redis was unavailable.</summary>
    public void RedisFallback(string concern)
        => _redisFallbacks.Add(1, new KeyValuePair<string, object?>(AiEdgeDiagnostics.Tags.Concern, concern));

    /// <summary>A concern refused a request (authentication, body limit, CORS, ...), for a bounded reason.</summary>
    public void Rejected(string concern, string reason)
        => _rejections.Add(1, new(AiEdgeDiagnostics.Tags.Concern, concern), new(AiEdgeDiagnostics.Tags.Reason, reason));

    /// <summary>Starts a span for an outbound call (backend, Redis) when someone listens.</summary>
    public static Activity? StartClientActivity(string name) => AiEdgeDiagnostics.ActivitySource.StartActivity(name, ActivityKind.Client);
}
