using System.Diagnostics;
using System.Diagnostics.Metrics;
using AiEdge.Middleware.Internal;
using Microsoft.AspNetCore.Http;

namespace AiEdge.Middleware.Resilience.Internal;

/// <summary>
/// How circuit breakers and backend calls report: a measurement on the suite's meter, a tag on the request's
/// activity, and values of the request's <see cref="AiEdgeDecisionsFeature"/> for the access log. Tag values are
/// bounded (configured breaker and replica names, outcomes), never client-supplied strings.
/// </summary>
internal sealed class ResilienceMetrics
{
    private readonly Counter<long> _breakerTransitions;
    private readonly Histogram<double> _backendDuration;
    private readonly Counter<long> _backendBrokenStreams;
    private readonly Counter<long> _disconnects;
    private readonly List<Func<IEnumerable<KeyValuePair<string, string>>>> _breakerStateSources = [];

    public ResilienceMetrics(IMeterFactory meterFactory)
    {
        var meter = SharedInstruments.Meter(meterFactory);
        _breakerTransitions = meter.CreateCounter<long>("aiedge.breaker.transitions", "{transition}", "Circuit breaker state transitions, by breaker and new state.");
        _backendDuration = meter.CreateHistogram<double>("aiedge.backend.duration", "s", "Duration of calls to model backends, by breaker, replica and outcome.");
        _backendBrokenStreams = SharedInstruments.BackendBrokenStreams(meter);
        _disconnects = SharedInstruments.ClientDisconnects(meter);
        meter.CreateObservableGauge("aiedge.breaker.state", ObserveBreakerStates, "{breaker}", "The current state of each circuit breaker: 1 for the state it is in, by breaker and state.");
    }

    /// <summary>
    /// A backend broke its response body after the headers arrived. <paramref name="breaker"/> is the breaker of the
    /// call, or the backend's authority when there is none.
    /// </summary>
    public void BackendStreamBroken(string breaker, string? replica)
        => _backendBrokenStreams.Add(1, new(AiEdgeDiagnostics.Tags.Breaker, breaker), new(AiEdgeDiagnostics.Tags.Replica, replica));

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

    /// <summary>A backend call completed.</summary>
    public void BackendCall(HttpContext? context, string breaker, string? replica, double seconds, string outcome, int? statusCode = null)
    {
        _backendDuration.Record(seconds, new(AiEdgeDiagnostics.Tags.Breaker, breaker), new(AiEdgeDiagnostics.Tags.Replica, replica), new(AiEdgeDiagnostics.Tags.Outcome, outcome));
        if (context is not null)
        {
            if (RequestFeatures.Get<AiEdgeDecisionsFeature>(context) is { } decisions)
            {
                decisions.Set(AiEdgeDiagnostics.Tags.Breaker, breaker);
                decisions.Set(AiEdgeDiagnostics.Tags.Replica, replica);
                decisions.Add(AiEdgeDecisionsFeature.BackendSeconds, seconds);
            }

            if (Activity.Current is { IsAllDataRequested: true } activity)
            {
                activity.SetTag(AiEdgeDiagnostics.Tags.Breaker, breaker);
                activity.SetTag(AiEdgeDiagnostics.Tags.Replica, replica);
            }
        }
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
}
