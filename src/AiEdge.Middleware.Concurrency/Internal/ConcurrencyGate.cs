namespace AiEdge.Middleware.Concurrency.Internal;

/// <summary>
/// The slots of one key (a tier, or a tier and a partition) as this replica sees them: the requests using it, the
/// requests holding a slot, and the queue of waiters, one FIFO list per priority level. The store decides who gets a
/// slot; the gate decides who asks next.
/// </summary>
/// <remarks>
/// <para>Priority: the highest non-empty level is served, except that a lower level whose head has seen
/// <c>starvationLimit</c> requests of higher levels served ahead of it is served first (the starvation bound).</para>
/// <para>Pumping: after a release, an enqueue or a raised limit, <see cref="PumpAsync"/> asks the store for a slot on
/// behalf of the next waiter until the store refuses or the queue is empty. One pump runs at a time; a request to pump
/// while one runs makes the running one try again, so no wake-up is lost.</para>
/// </remarks>
internal sealed class ConcurrencyGate
{
    private readonly object _lock = new();
    private readonly TierState _tier;
    private readonly LinkedList<Waiter>[] _levels;
    private readonly int[] _skipped;
    private int _queued;
    private int _users;
    private int _inFlight;
    private bool _pumping;
    private bool _pumpAgain;

    // Set by the sweep when the gate was forgotten; a request that finds it set looks the key up again.
    private bool _dead;

    public ConcurrencyGate(TierState tier, string key, int levels)
    {
        _tier = tier;
        Key = key;
        _levels = new LinkedList<Waiter>[levels];
        for (var i = 0; i < levels; i++)
        {
            _levels[i] = new LinkedList<Waiter>();
        }

        _skipped = new int[levels];
    }

    /// <summary>Gets the store key.</summary>
    public string Key { get; }

    /// <summary>Gets the requests waiting in the queue.</summary>
    public int Queued => Volatile.Read(ref _queued);

    /// <summary>Gets this replica's requests holding a slot of the key.</summary>
    public int InFlight => Volatile.Read(ref _inFlight);

    /// <summary>Gets the requests using the gate (queued or holding a slot).</summary>
    public int Users => Volatile.Read(ref _users);

    /// <summary>A request starts using the gate; false when the sweep forgot it meanwhile (look the key up again).</summary>
    public bool Enter()
    {
        Interlocked.Increment(ref _users);
        if (!Volatile.Read(ref _dead))
        {
            return true;
        }

        Interlocked.Decrement(ref _users);
        return false;
    }

    /// <summary>The sweep forgets an idle gate; false when a request entered meanwhile.</summary>
    public bool TryRetire()
    {
        if (Users != 0)
        {
            return false;
        }

        Volatile.Write(ref _dead, true);
        if (Volatile.Read(ref _users) == 0)
        {
            return true;
        }

        Volatile.Write(ref _dead, false);
        return false;
    }

    /// <summary>A request stops using the gate.</summary>
    public void Exit() => Interlocked.Decrement(ref _users);

    public int SlotTaken() => Interlocked.Increment(ref _inFlight);

    public int SlotReleased() => Interlocked.Decrement(ref _inFlight) + 1;

    /// <summary>Queues <paramref name="waiter"/> unless <paramref name="queueLimit"/> requests already wait; returns the requests ahead or -1.</summary>
    public int TryEnqueue(Waiter waiter, int queueLimit)
    {
        lock (_lock)
        {
            if (_queued >= queueLimit)
            {
                return -1;
            }

            var ahead = _queued;
            waiter.Node = _levels[waiter.Level].AddLast(waiter);
            Volatile.Write(ref _queued, _queued + 1);
            return ahead;
        }
    }

    /// <summary>
    /// The waiters still queued whose wait has not run out at <paramref name="now"/> (a timestamp of the tier's clock):
    /// what a request that leaves the queue at <paramref name="now"/> leaves behind. Waiters whose time ran out with it
    /// leave with it, whichever of their timers fired first.
    /// </summary>
    public int QueuedWaitingAt(long now)
    {
        lock (_lock)
        {
            var count = 0;
            foreach (var level in _levels)
            {
                foreach (var waiter in level)
                {
                    if (waiter.State == Waiter.Waiting && waiter.Deadline > now)
                    {
                        count++;
                    }
                }
            }

            return count;
        }
    }

    /// <summary>Takes <paramref name="waiter"/> out of the queue (it left); false when it was no longer queued.</summary>
    public bool Remove(Waiter waiter)
    {
        lock (_lock)
        {
            return Remove_NeedsLock(waiter);
        }
    }

    /// <summary>Asks the store for slots for the waiters, best first, until it refuses or nobody waits.</summary>
    public async Task PumpAsync()
    {
        lock (_lock)
        {
            if (_pumping)
            {
                _pumpAgain = true;
                return;
            }

            _pumping = true;
        }

        while (true)
        {
            Waiter? next;
            lock (_lock)
            {
                _pumpAgain = false;
                next = PeekNext_NeedsLock();
                if (next is null)
                {
                    _pumping = false;
                    return;
                }
            }

            ConcurrencyLease lease;
            try
            {
                lease = await _tier.Store.TryAcquireAsync(Key, _tier.CurrentLimit, _tier.LeaseDuration, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception exception)
            {
                // The waiters stay queued: a later release pumps again, and each waiter's timeout bounds its wait.
                _tier.StoreFailed(exception);
                lock (_lock)
                {
                    _pumping = false;
                }

                return;
            }

            if (!lease.Acquired)
            {
                lock (_lock)
                {
                    if (!_pumpAgain)
                    {
                        _pumping = false;
                        return;
                    }
                }

                continue;
            }

            bool served;
            lock (_lock)
            {
                served = Serve_NeedsLock(next);
            }

            if (!served || !next.TryGrant(lease.Id))
            {
                // The waiter left between the peek and the grant: the slot goes back, and the next waiter is asked for.
                try
                {
                    await _tier.Store.ReleaseAsync(Key, lease.Id, CancellationToken.None).ConfigureAwait(false);
                }
                catch (Exception exception)
                {
                    _tier.StoreFailed(exception);
                }
            }
        }
    }

    private Waiter? PeekNext_NeedsLock()
    {
        if (_queued == 0)
        {
            return null;
        }

        // Of the levels whose head starves, the highest goes first.
        for (var level = 1; level < _levels.Length; level++)
        {
            if (_levels[level].First is { } starving && _skipped[level] >= _tier.StarvationLimit)
            {
                return starving.Value;
            }
        }

        foreach (var list in _levels)
        {
            if (list.First is { } first)
            {
                return first.Value;
            }
        }

        return null;
    }

    private bool Serve_NeedsLock(Waiter waiter)
    {
        if (!Remove_NeedsLock(waiter))
        {
            return false;
        }

        _skipped[waiter.Level] = 0;
        for (var level = waiter.Level + 1; level < _levels.Length; level++)
        {
            if (_levels[level].Count > 0)
            {
                _skipped[level]++;
            }
        }

        return true;
    }

    private bool Remove_NeedsLock(Waiter waiter)
    {
        var node = waiter.Node;
        if (node?.List is null)
        {
            return false;
        }

        node.List.Remove(node);
        if (_levels[waiter.Level].Count == 0)
        {
            _skipped[waiter.Level] = 0;
        }

        Volatile.Write(ref _queued, _queued - 1);
        return true;
    }
}
