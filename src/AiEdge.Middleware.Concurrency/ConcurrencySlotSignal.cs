namespace AiEdge.Middleware.Concurrency;

/// <summary>
/// How a shared <see cref="IConcurrencyStore"/> wakes this replica's queues when a slot came free outside this
/// replica (released by another replica, or expired). <c>AddConcurrency()</c> registers one singleton; a store takes
/// it from the service provider and calls <see cref="SlotFreed"/>.
/// </summary>
/// <remarks>
/// A replica asks the store for a slot on behalf of its queued requests when one of its own slots is released; a slot
/// freed elsewhere reaches its queue only through this signal. A call for a key nobody waits on here costs a lookup
/// and nothing else; a call that turns out to be spurious costs one <see cref="IConcurrencyStore.TryAcquireAsync"/>.
/// A store that only this replica uses (the in-memory one) never needs it.
/// </remarks>
public sealed class ConcurrencySlotSignal
{
    private Action<string>? _listener;

    internal ConcurrencySlotSignal()
    {
    }

    /// <summary>Tells the queue of <paramref name="key"/>, if requests wait in it here, to ask the store again.</summary>
    /// <param name="key">The store key (as <see cref="IConcurrencyStore.TryAcquireAsync"/> received it) a slot of which may be free.</param>
    public void SlotFreed(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        Volatile.Read(ref _listener)?.Invoke(key);
    }

    /// <summary>Sets the one listener (the tier registry of this replica).</summary>
    internal void Listen(Action<string> listener) => Volatile.Write(ref _listener, listener);
}
