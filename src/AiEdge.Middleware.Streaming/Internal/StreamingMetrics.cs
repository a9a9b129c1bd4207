using System.Diagnostics.Metrics;
using AiEdge.Middleware.Internal;
using Microsoft.Extensions.DependencyInjection;

namespace AiEdge.Middleware.Streaming.Internal;

/// <summary>What the streaming stage and the event-stream relay report on the suite's meter.</summary>
internal sealed class StreamingMetrics
{
    private readonly UpDownCounter<long> _streamsActive;
    private readonly Histogram<double> _streamDuration;
    private readonly Histogram<double> _timeToFirstEvent;
    private readonly Counter<long> _heartbeats;
    private readonly Counter<long> _disconnects;
    private readonly Counter<long> _backendBrokenStreams;

    public StreamingMetrics(IMeterFactory meterFactory)
    {
        var meter = SharedInstruments.Meter(meterFactory);
        _streamsActive = meter.CreateUpDownCounter<long>("aiedge.stream.active", "{stream}", "Event streams currently open.");
        _streamDuration = meter.CreateHistogram<double>("aiedge.stream.duration", "s", "Duration of event streams.");
        _timeToFirstEvent = meter.CreateHistogram<double>("aiedge.stream.time_to_first_event", "s", "Time from request start to the first event written.");
        _heartbeats = meter.CreateCounter<long>("aiedge.stream.heartbeats", "{heartbeat}", "Heartbeat comments written to idle streams.");
        _disconnects = SharedInstruments.ClientDisconnects(meter);
        _backendBrokenStreams = SharedInstruments.BackendBrokenStreams(meter);
    }

    /// <summary>
    /// The registered metrics, or metrics on the application's <see cref="IMeterFactory"/> when <c>AddStreaming()</c>
    /// was not called (the relay extensions work without it); <see langword="null"/> without either.
    /// </summary>
    public static StreamingMetrics? From(IServiceProvider? services)
        => services?.GetService<StreamingMetrics>()
            ?? (services?.GetService<IMeterFactory>() is { } meters ? new StreamingMetrics(meters) : null);

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

    /// <summary>
    /// A backend broke its response body after the headers arrived. <paramref name="breaker"/> is the breaker of the
    /// call, or the backend's name when there is none.
    /// </summary>
    public void BackendStreamBroken(string breaker, string? replica)
        => _backendBrokenStreams.Add(1, new(AiEdgeDiagnostics.Tags.Breaker, breaker), new(AiEdgeDiagnostics.Tags.Replica, replica));
}
