namespace AiEdge.Middleware.ReverseProxy.Internal;

/// <summary>Which of a proxied call's timeouts expired.</summary>
internal enum StreamTimeout
{
    None = 0,
    FirstByte = 1,
    Idle = 2,
    Total = 3,
}

/// <summary>
/// The timeouts of one proxied call, on <see cref="TimeProvider"/> timers. Each attempt gets a cancellation token
/// (linked to the caller's) that YARP forwards with; the first expiry is remembered and cancels it. The first-byte
/// timer runs from the attempt's start until the first relayed write, then becomes the idle timer, restarted by every
/// relayed write; the total timer runs once for the whole call, retries included.
/// </summary>
internal sealed class StreamDeadlines : IDisposable
{
    private static readonly TimerCallback OnActivityExpired = static state => ((StreamDeadlines)state!).Expire(StreamTimeout.Idle);
    private static readonly TimerCallback OnTotalExpired = static state => ((StreamDeadlines)state!).Expire(StreamTimeout.Total);

    private readonly object _lock = new();
    private readonly TimeProvider _time;
    private readonly TimeSpan _firstByte;
    private readonly TimeSpan _idle;
    private readonly ITimer? _total;
    private ITimer? _activity;
    private CancellationTokenSource? _attempt;
    private bool _started;
    private StreamTimeout _expired;

    public StreamDeadlines(TimeProvider time, TimeSpan firstByte, TimeSpan idle, TimeSpan total)
    {
        _time = time;
        _firstByte = firstByte;
        _idle = idle;
        if (total > TimeSpan.Zero)
        {
            _total = time.CreateTimer(OnTotalExpired, this, total, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>Gets whether the first byte is awaited under a timeout (so the response's start may be held back until then).</summary>
    public bool AwaitsFirstByte => _firstByte > TimeSpan.Zero && !_started;

    /// <summary>Gets the timeout that expired, if any.</summary>
    public StreamTimeout Expired
    {
        get
        {
            lock (_lock)
            {
                return _expired;
            }
        }
    }

    /// <summary>Starts an attempt: a new token linked to <paramref name="callerAborted"/>, and the first-byte timer.</summary>
    public CancellationToken BeginAttempt(CancellationToken callerAborted)
    {
        lock (_lock)
        {
            _attempt?.Dispose();
            _attempt = CancellationTokenSource.CreateLinkedTokenSource(callerAborted);
            if (_expired == StreamTimeout.FirstByte)
            {
                _expired = StreamTimeout.None;   // the failed attempt's: the next destination gets its own wait
            }

            if (_expired != StreamTimeout.None)
            {
                _attempt.Cancel();
                return _attempt.Token;
            }

            _started = false;
            if (_firstByte > TimeSpan.Zero)
            {
                _activity ??= _time.CreateTimer(OnActivityExpired, this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
                _activity.Change(_firstByte, Timeout.InfiniteTimeSpan);
            }

            return _attempt.Token;
        }
    }

    /// <summary>Notes a write relayed to the caller: the first ends the first-byte wait; each restarts the idle timer.</summary>
    public void Relayed()
    {
        var first = !_started;
        if (first)
        {
            lock (_lock)
            {
                _started = true;
            }
        }

        if (_idle > TimeSpan.Zero)
        {
            _activity ??= _time.CreateTimer(OnActivityExpired, this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            _activity.Change(_idle, Timeout.InfiniteTimeSpan);
        }
        else if (first)
        {
            _activity?.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>Stops the per-attempt timer (the total timer runs on).</summary>
    public void EndAttempt() => _activity?.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);

    public void Dispose()
    {
        _activity?.Dispose();
        _total?.Dispose();
        lock (_lock)
        {
            _attempt?.Dispose();
            _attempt = null;
        }
    }

    private void Expire(StreamTimeout timeout)
    {
        CancellationTokenSource? attempt;
        lock (_lock)
        {
            if (_expired != StreamTimeout.None)
            {
                return;
            }

            _expired = timeout == StreamTimeout.Idle && !_started ? StreamTimeout.FirstByte : timeout;
            attempt = _attempt;
        }

        try
        {
            attempt?.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The attempt ended as the timer fired: nothing left to cancel.
        }
    }
}
