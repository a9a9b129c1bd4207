using Microsoft.Extensions.Time.Testing;

namespace AiEdge.Middleware.Testing;

/// <summary>
/// A <see cref="FakeTimeProvider"/> that also counts the timers created from it and not yet disposed, for the few
/// tests whose claim is that a timer was created or released and that no response or callback can show.
/// </summary>
public sealed class TimerCountingTimeProvider : FakeTimeProvider
{
    private int _liveTimers;

    /// <summary>Creates a clock at <see cref="TestClock.Start"/>.</summary>
    public TimerCountingTimeProvider()
        : base(TestClock.Start)
    {
    }

    /// <summary>Gets the number of timers created from this clock and not yet disposed.</summary>
    public int LiveTimers => Volatile.Read(ref _liveTimers);

    /// <inheritdoc />
    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        Interlocked.Increment(ref _liveTimers);
        return new CountedTimer(this, base.CreateTimer(callback, state, dueTime, period));
    }

    private sealed class CountedTimer(TimerCountingTimeProvider owner, ITimer inner) : ITimer
    {
        private int _disposed;

        public bool Change(TimeSpan dueTime, TimeSpan period) => inner.Change(dueTime, period);

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                Interlocked.Decrement(ref owner._liveTimers);
            }

            inner.Dispose();
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
