namespace AiEdge.Middleware.Concurrency.Internal;

/// <summary>
/// A request waiting in a <see cref="ConcurrencyGate"/>'s queue. It ends exactly once (granted a lease, timed out or
/// abandoned by its client), decided by one compare-and-swap, so a slot granted to a waiter that already left is
/// released by the granter, never lost.
/// </summary>
internal sealed class Waiter(ConcurrencyGate gate, int level)
{
    public const int Waiting = 0;
    public const int Granted = 1;
    public const int TimedOut = 2;
    public const int Abandoned = 3;

    private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _state;
    private ITimer? _timer;
    private CancellationTokenRegistration _registration;

    public int Level { get; } = level;

    public LinkedListNode<Waiter>? Node { get; set; }

    public long LeaseId { get; private set; }

    /// <summary>Gets the timestamp (of the <see cref="TimeProvider"/> given to <see cref="Start"/>) at which the wait runs out.</summary>
    public long Deadline { get; private set; } = long.MaxValue;

    public int State => Volatile.Read(ref _state);

    public Task Task => _done.Task;

    /// <summary>Starts the queue timeout and watches the client; either ends the wait and leaves the queue at once.</summary>
    public void Start(TimeProvider time, TimeSpan timeout, CancellationToken aborted)
    {
        var now = time.GetTimestamp();
        var ticks = timeout.TotalSeconds * time.TimestampFrequency;
        Deadline = ticks >= long.MaxValue - now ? long.MaxValue : now + (long)ticks;
        _timer = time.CreateTimer(static state => ((Waiter)state!).End(TimedOut), this, timeout, Timeout.InfiniteTimeSpan);
        _registration = aborted.UnsafeRegister(static state => ((Waiter)state!).End(Abandoned), this);
    }

    /// <summary>Stops the timer and the client watch.</summary>
    public void Stop()
    {
        _timer?.Dispose();
        _registration.Dispose();
    }

    /// <summary>Hands a lease to the waiter; false when it already left (the caller then releases the lease).</summary>
    public bool TryGrant(long leaseId)
    {
        LeaseId = leaseId;
        if (Interlocked.CompareExchange(ref _state, Granted, Waiting) != Waiting)
        {
            return false;
        }

        _done.TrySetResult();
        return true;
    }

    private void End(int state)
    {
        if (Interlocked.CompareExchange(ref _state, state, Waiting) != Waiting)
        {
            return;
        }

        gate.Remove(this);
        _done.TrySetResult();
    }
}
