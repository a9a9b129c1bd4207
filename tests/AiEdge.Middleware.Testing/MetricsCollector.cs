using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace AiEdge.Middleware.Testing;

/// <summary>
/// A meter factory of its own container, and a <see cref="MeterListener"/> that records only the AiEdge meter of that
/// factory: a package's metrics class built on <see cref="MeterFactory"/> reports here and nowhere else.
/// </summary>
public sealed class MetricsCollector : IDisposable
{
    private readonly ServiceProvider _services;
    private readonly MeterListener _listener = new();
    private readonly ConcurrentQueue<Recorded> _measurements = new();

    /// <summary>Starts listening.</summary>
    public MetricsCollector()
    {
        _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var factory = _services.GetRequiredService<IMeterFactory>();
        MeterFactory = factory;
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
    }

    /// <summary>Gets the factory to build the metrics under test on.</summary>
    public IMeterFactory MeterFactory { get; }

    /// <summary>Gets the measurements so far.</summary>
    public IReadOnlyList<Recorded> Measurements => [.. _measurements];

    /// <summary>Collects the observable instruments now.</summary>
    public void Observe() => _listener.RecordObservableInstruments();

    /// <summary>Gets the one measurement of <paramref name="instrument"/>.</summary>
    public Recorded Single(string instrument)
    {
        var matches = new List<Recorded>();
        foreach (var measurement in _measurements)
        {
            if (measurement.Instrument == instrument)
            {
                matches.Add(measurement);
            }
        }

        return Assert.Single(matches);
    }

    /// <summary>Asserts that <paramref name="recorded"/> carries exactly the <paramref name="expected"/> tags.</summary>
    public static void AssertTags(Recorded recorded, params (string Key, object? Value)[] expected)
    {
        ArgumentNullException.ThrowIfNull(recorded);
        ArgumentNullException.ThrowIfNull(expected);
        Assert.Equal(expected.Length, recorded.Tags.Count);
        foreach (var (key, value) in expected)
        {
            Assert.True(recorded.Tags.TryGetValue(key, out var actual), $"missing tag {key}");
            Assert.Equal(value, actual);
        }
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

    /// <inheritdoc />
    public void Dispose()
    {
        _listener.Dispose();
        _services.Dispose();
    }

    /// <summary>One measurement: the instrument's name, unit and kind, the value and its tags.</summary>
    /// <param name="Instrument">The instrument's name.</param>
    /// <param name="Unit">The instrument's unit.</param>
    /// <param name="Kind">The instrument's type name, e.g. <c>Counter`1</c>.</param>
    /// <param name="Value">The measured value.</param>
    /// <param name="Tags">The measurement's tags.</param>
    public sealed record Recorded(string Instrument, string? Unit, string Kind, double Value, IReadOnlyDictionary<string, object?> Tags);
}
