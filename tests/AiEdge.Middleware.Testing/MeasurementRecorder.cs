using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace AiEdge.Middleware.Testing;

/// <summary>Records the measurements of one instrument of the AiEdge meter, whichever host reports them.</summary>
public sealed class MeasurementRecorder : IDisposable
{
    private readonly MeterListener _listener = new();

    /// <summary>Starts listening to <paramref name="instrument"/>.</summary>
    public MeasurementRecorder(string instrument)
    {
        _listener.InstrumentPublished = (published, listener) =>
        {
            if (published.Meter.Name == AiEdgeDiagnostics.MeterName && published.Name == instrument)
            {
                listener.EnableMeasurementEvents(published);
            }
        };
        _listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            var copy = new Dictionary<string, object?>();
            foreach (var tag in tags)
            {
                copy[tag.Key] = tag.Value;
            }

            Measurements.Enqueue((value, copy));
        });
        _listener.Start();
    }

    /// <summary>Gets every measurement with its tags.</summary>
    public ConcurrentQueue<(long Value, Dictionary<string, object?> Tags)> Measurements { get; } = new();

    /// <summary>Gets the sum of the measurements whose tag <paramref name="key"/> equals <paramref name="value"/>.</summary>
    public long Sum(string key, string value)
    {
        long sum = 0;
        foreach (var (measured, tags) in Measurements)
        {
            if (tags.TryGetValue(key, out var tag) && string.Equals(tag as string, value, StringComparison.Ordinal))
            {
                sum += measured;
            }
        }

        return sum;
    }

    /// <inheritdoc />
    public void Dispose() => _listener.Dispose();
}
