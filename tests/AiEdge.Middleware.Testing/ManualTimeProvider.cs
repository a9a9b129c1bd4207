namespace AiEdge.Middleware.Testing;

/// <summary>
/// A <see cref="TimeProvider"/> whose clock moves only when a test advances it. Timers created from it fire,
/// synchronously and in due order, when <see cref="Advance"/> moves the clock past their due time.
/// </summary>
public sealed class ManualTimeProvider : TimeProvider
{
    private readonly object _lock = new();
    private readonly List<ManualTimer> _timers = [];
    private DateTimeOffset _now;
    private long _timestamp;

    /// <summary>Creates a clock at <paramref name="start"/> (default 2026-01-01T00:00:00Z).</summary>
    public ManualTimeProvider(DateTimeOffset? start = null)
    {
        _now = start ?? new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    }

    /// <inheritdoc />
    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    /// <inheritdoc />
    public override DateTimeOffset GetUtcNow()
    {
        lock (_lock)
        {
            return _now;
        }
    }

    /// <inheritdoc />
    public override long GetTimestamp()
    {
        lock (_lock)
        {
            return _timestamp;
        }
    }

    /// <summary>Moves the clock forward, firing every timer that falls due on the way.</summary>
    public void Advance(TimeSpan delta)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(delta, TimeSpan.Zero);
        DateTimeOffset target;
        lock (_lock)
        {
            target = _now + delta;
        }

        while (true)
        {
            ManualTimer? due = null;
            lock (_lock)
            {
                foreach (var timer in _timers)
                {
                    if (timer.DueAt is { } at && at <= target && (due is null || at < due.DueAt))
                    {
                        due = timer;
                    }
                }

                if (due is null)
                {
                    _timestamp += (target - _now).Ticks;
                    _now = target;
                    return;
                }

                _timestamp += (due.DueAt!.Value - _now).Ticks;
                _now = due.DueAt!.Value;
                due.Reschedule_NeedsLock(_now);
            }

            due.Fire();
        }
    }

    /// <summary>Moves the clock forward by <paramref name="milliseconds"/>.</summary>
    public void AdvanceMilliseconds(double milliseconds) => Advance(TimeSpan.FromMilliseconds(milliseconds));

    /// <summary>Gets the number of timers that are scheduled to fire.</summary>
    public int ActiveTimers
    {
        get
        {
            lock (_lock)
            {
                var count = 0;
                foreach (var timer in _timers)
                {
                    if (timer.DueAt is not null)
                    {
                        count++;
                    }
                }

                return count;
            }
        }
    }

    /// <inheritdoc />
    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new ManualTimer(this, callback, state);
        lock (_lock)
        {
            _timers.Add(timer);
            timer.Change_NeedsLock(_now, dueTime, period);
        }

        return timer;
    }

    private sealed class ManualTimer(ManualTimeProvider owner, TimerCallback callback, object? state) : ITimer
    {
        private TimeSpan _period = Timeout.InfiniteTimeSpan;

        public DateTimeOffset? DueAt { get; private set; }

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            lock (owner._lock)
            {
                if (!owner._timers.Contains(this))
                {
                    return false;
                }

                Change_NeedsLock(owner._now, dueTime, period);
                return true;
            }
        }

        public void Change_NeedsLock(DateTimeOffset now, TimeSpan dueTime, TimeSpan period)
        {
            _period = period;
            DueAt = dueTime == Timeout.InfiniteTimeSpan ? null : now + dueTime;
        }

        public void Reschedule_NeedsLock(DateTimeOffset now)
            => DueAt = _period == Timeout.InfiniteTimeSpan || _period == TimeSpan.Zero ? null : now + _period;

        public void Fire() => callback(state);

        public void Dispose()
        {
            lock (owner._lock)
            {
                DueAt = null;
                owner._timers.Remove(this);
            }
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
