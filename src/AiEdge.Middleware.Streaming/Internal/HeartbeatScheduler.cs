namespace AiEdge.Middleware.Streaming.Internal;

/// <summary>
/// Decides when an event stream is due a heartbeat: it owns the one-shot timer, the time of the last output and the
/// timer's lifetime. It never writes: when the stream has been silent for a whole interval it asks its
/// <see cref="IHeartbeatTarget"/>, which owns the response and its write lock, to write a heartbeat if it can.
/// </summary>
/// <remarks>
/// <para>
/// The timer is re-armed only from its own callback or from <see cref="HeartbeatWritten"/>, which ends a callback
/// whose heartbeat was written asynchronously. Whoever runs that way holds the <see cref="Running"/> state, so the
/// timer is never changed and disposed at the same time, without a lock: <see cref="Dispose"/> disposes an
/// <see cref="Armed"/> timer itself and leaves a running one to the runner (<see cref="DisposeRequested"/>), which
/// disposes it instead of re-arming it.
/// </para>
/// <para>
/// The state moves only by compare-and-swap: Armed → Running (a callback starts) → Armed (it re-armed the timer)
/// or → Disposed (it saw <see cref="DisposeRequested"/>); Armed → Disposed and Running → DisposeRequested by
/// <see cref="Dispose"/>. A callback that fires while a run is still ending (possible only with a tiny interval)
/// leaves a note that the ending run reads, so it runs again instead of being lost.
/// </para>
/// </remarks>
internal sealed class HeartbeatScheduler : IDisposable
{
    private const int Armed = 0;
    private const int Running = 1;
    private const int DisposeRequested = 2;
    private const int Disposed = 3;

    private readonly TimeProvider _time;
    private readonly IHeartbeatTarget _target;
    private readonly ITimer _timer;
    private long _lastOutput;
    private int _state;
    private int _missed;

    public HeartbeatScheduler(TimeProvider time, TimeSpan interval, IHeartbeatTarget target, long lastOutput)
    {
        _time = time;
        _target = target;
        Interval = interval;
        _lastOutput = lastOutput;
        _timer = time.CreateTimer(static state => ((HeartbeatScheduler)state!).OnDue(), this, interval, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Gets the silence after which a heartbeat is written.</summary>
    public TimeSpan Interval { get; }

    /// <summary>Gets whether the scheduler was disposed (or is being disposed): no heartbeat is asked for any more.</summary>
    public bool IsStopped => Volatile.Read(ref _state) >= DisposeRequested;

    /// <summary>Records output at <paramref name="timestamp"/>: the next heartbeat is due an interval after it.</summary>
    public void OutputAt(long timestamp) => Volatile.Write(ref _lastOutput, timestamp);

    /// <summary>
    /// Ends a callback for which <see cref="IHeartbeatTarget.TryWriteHeartbeat"/> returned <see cref="HeartbeatAttempt.Writing"/>:
    /// re-arms the timer, or stops for good when <paramref name="stop"/> (the stream can no longer be written) or
    /// when <see cref="Dispose"/> was called meanwhile. The target calls it before it releases its write lock.
    /// </summary>
    public void HeartbeatWritten(bool stop) => EndRun(stop ? Timeout.InfiniteTimeSpan : Interval, stop);

    /// <summary>Stops the heartbeats: disposes the timer now, or as soon as the callback that runs ends.</summary>
    public void Dispose()
    {
        while (true)
        {
            switch (Volatile.Read(ref _state))
            {
                case Armed when Interlocked.CompareExchange(ref _state, Disposed, Armed) == Armed:
                    _timer.Dispose();
                    return;
                case Running when Interlocked.CompareExchange(ref _state, DisposeRequested, Running) == Running:
                    return;
                case DisposeRequested or Disposed:
                    return;
            }
        }
    }

    private void OnDue()
    {
        var state = Interlocked.CompareExchange(ref _state, Running, Armed);
        if (state == Running)
        {
            // Fired between the re-arming and the end of the run that re-armed it (a tiny interval): that run
            // looks again when it ends, so the heartbeat is not lost.
            Volatile.Write(ref _missed, 1);
            return;
        }

        if (state != Armed)
        {
            return;
        }

        var idle = _time.GetElapsedTime(Volatile.Read(ref _lastOutput));
        if (idle < Interval)
        {
            // Output since the timer was armed: due an interval after that output.
            EndRun(Interval - idle, stop: false);
            return;
        }

        switch (_target.TryWriteHeartbeat())
        {
            case HeartbeatAttempt.Writing:
                // The target ends this run with HeartbeatWritten once the comment is out.
                return;
            case HeartbeatAttempt.Closed:
                EndRun(Timeout.InfiniteTimeSpan, stop: true);
                return;
            default:
                // Busy (the application is writing) or inside an event: try again after a whole interval.
                EndRun(Interval, stop: false);
                return;
        }
    }

    private void EndRun(TimeSpan next, bool stop)
    {
        if (!stop)
        {
            // Re-armed while still Running, so Dispose cannot have disposed the timer under this call.
            _timer.Change(next, Timeout.InfiniteTimeSpan);
            if (Interlocked.CompareExchange(ref _state, Armed, Running) == Running)
            {
                if (Interlocked.Exchange(ref _missed, 0) == 1)
                {
                    OnDue();
                }

                return;
            }
        }

        // Disposed while running (or the stream is over): this run owns the timer, so it disposes it.
        Volatile.Write(ref _state, Disposed);
        _timer.Dispose();
    }
}

/// <summary>What a stream answers when its <see cref="HeartbeatScheduler"/> finds it due a heartbeat.</summary>
internal enum HeartbeatAttempt
{
    /// <summary>A heartbeat is being written; the target calls <see cref="HeartbeatScheduler.HeartbeatWritten"/> when done.</summary>
    Writing,

    /// <summary>Not now: the application holds the write lock, or the stream is inside an event.</summary>
    NotNow,

    /// <summary>Never again: the stream completed or the client went away.</summary>
    Closed,
}

/// <summary>The stream a <see cref="HeartbeatScheduler"/> writes heartbeats to.</summary>
internal interface IHeartbeatTarget
{
    /// <summary>Starts writing a heartbeat if the stream's write lock is free and the stream is between two events; never waits.</summary>
    HeartbeatAttempt TryWriteHeartbeat();
}
