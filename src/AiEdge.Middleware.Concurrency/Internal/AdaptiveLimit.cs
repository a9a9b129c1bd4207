namespace AiEdge.Middleware.Concurrency.Internal;

/// <summary>
/// An AIMD concurrency limit driven by latency: requests complete with their service time; every window of samples
/// (at least <see cref="MinWindow"/>, at least the current limit) is averaged and compared with the uncongested
/// latency.
/// </summary>
/// <remarks>
/// <para>Window average &gt; <c>Tolerance</c> × uncongested: the limit is multiplied by <c>BackoffRatio</c> (never below
/// the floor). Otherwise, if the window saw the limit in use (a request completed with the limit reached), it grows by
/// one (never above the ceiling); an idle limit does not grow. The window after a change decides nothing: its requests
/// were admitted under the old limit.</para>
/// <para>The uncongested latency is the least window average seen, measured again every <see cref="ProbeEvery"/>
/// windows as Envoy's adaptive concurrency filter does: the limit drops to the floor for two windows (one to drain,
/// one to measure), the measured average becomes the uncongested latency, and the limit returns to where it was. So a
/// backend that became slower for good is followed, and a limit never ratchets up by comparing congestion with
/// congestion. Pure arithmetic under one lock; time comes only from the samples.</para>
/// </remarks>
internal sealed class AdaptiveLimit
{
    internal const int MinWindow = 8;
    internal const int ProbeEvery = 256;

    private const int Running = 0;
    private const int Draining = 1;
    private const int Measuring = 2;

    private readonly object _lock = new();
    private readonly double _tolerance;
    private readonly double _backoff;
    private double _limit;
    private long _windowSum;
    private int _windowCount;
    private bool _windowSaturated;
    private double _uncongested;
    private int _windows;
    private int _phase;
    private bool _settling;
    private int _current;

    public AdaptiveLimit(int initial, int min, int max, double tolerance, double backoff)
    {
        Min = min;
        Max = max;
        _tolerance = tolerance;
        _backoff = backoff;
        _limit = Math.Clamp(initial, min, max);
        _current = (int)_limit;
    }

    public int Min { get; }

    public int Max { get; }

    /// <summary>Gets the limit now.</summary>
    public int Current => Volatile.Read(ref _current);

    /// <summary>Gets the uncongested latency estimate, in the samples' unit (0 before the first window).</summary>
    public double Uncongested
    {
        get
        {
            lock (_lock)
            {
                return _uncongested;
            }
        }
    }

    /// <summary>Takes one completed request's service time; returns the change of the limit (0 when it did not change).</summary>
    /// <param name="latency">The service time, in any unit (timestamp ticks).</param>
    /// <param name="inFlight">Requests holding a slot when this one completed, itself included.</param>
    public int OnSample(long latency, int inFlight)
    {
        lock (_lock)
        {
            _windowSum += latency;
            _windowCount++;
            _windowSaturated |= inFlight >= _current;
            if (_windowCount < Math.Max(MinWindow, _current))
            {
                return 0;
            }

            var average = (double)_windowSum / _windowCount;
            var saturated = _windowSaturated;
            _windowSum = 0;
            _windowCount = 0;
            _windowSaturated = false;
            var previous = _current;
            if (_settling)
            {
                // The window after a change mixes requests admitted under the old limit: it decides nothing.
                _settling = false;
                return 0;
            }

            switch (_phase)
            {
                case Draining:
                    _phase = Measuring;
                    return 0;
                case Measuring:
                    _phase = Running;
                    _uncongested = average;
                    return Publish((int)_limit, previous);
            }

            if (_uncongested <= 0 || average < _uncongested)
            {
                _uncongested = average;
            }

            if (average > _uncongested * _tolerance)
            {
                _limit = Math.Max(Min, _limit * _backoff);
            }
            else if (saturated)
            {
                _limit = Math.Min(Max, _limit + 1);
            }

            if (++_windows % ProbeEvery == 0 && (int)_limit > Min)
            {
                _phase = Draining;
                return Publish(Min, previous);
            }

            return Publish(Math.Max(Min, (int)_limit), previous);
        }
    }

    private int Publish(int next, int previous)
    {
        _settling = next != previous;
        Volatile.Write(ref _current, next);
        return next - previous;
    }
}
