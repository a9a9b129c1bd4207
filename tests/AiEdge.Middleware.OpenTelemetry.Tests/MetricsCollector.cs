using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using AiEdge.Middleware.Internal;
using Microsoft.Extensions.DependencyInjection;

namespace AiEdge.Middleware.OpenTelemetry.Tests;

/// <summary>An <see cref="AiEdgeMetrics"/> of its own container, and a <see cref="MeterListener"/> that records only its meter.</summary>
internal sealed class MetricsCollector : IDisposable
{
    private readonly ServiceProvider _services;
    private readonly MeterListener _listener = new();
    private readonly ConcurrentQueue<Recorded> _measurements = new();

    public MetricsCollector()
    {
        _services = new ServiceCollection().AddMetrics().AddSingleton<AiEdgeMetrics>().BuildServiceProvider();
        var factory = _services.GetRequiredService<IMeterFactory>();
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == AiEdgeDiagnostics.MeterName && ReferenceEquals(instrument.Meter.Scope, factory))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Add(instrument, value, tags));
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Add(instrument, value, tags));
        _listener.SetMeasurementEventCallback<int>((instrument, value, tags, _) => Add(instrument, value, tags));
        _listener.Start();
        Metrics = _services.GetRequiredService<AiEdgeMetrics>();
    }

    public AiEdgeMetrics Metrics { get; }

    public IReadOnlyList<Recorded> Measurements => [.. _measurements];

    /// <summary>Collects the observable instruments now.</summary>
    public void Observe() => _listener.RecordObservableInstruments();

    public Recorded Single(string instrument)
    {
        var matches = Measurements.Where(m => m.Instrument == instrument).ToList();
        return Assert.Single(matches);
    }

    private void Add(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var copy = new Dictionary<string, object?>();
        foreach (var tag in tags)
        {
            copy[tag.Key] = tag.Value;
        }

        _measurements.Enqueue(new Recorded(instrument.Name, instrument.Unit, instrument.GetType().Name, value, copy));
    }

    public void Dispose()
    {
        _listener.Dispose();
        _services.Dispose();
    }

    internal sealed record Recorded(string Instrument, string? Unit, string Kind, double Value, IReadOnlyDictionary<string, object?> Tags);
}
