using System.Collections.Concurrent;

namespace AiEdge.Middleware.Concurrency;

/// <summary>
/// The default <see cref="IConcurrencyStore"/>: slots counted in this process, one lock per key, time from the
/// <see cref="TimeProvider"/>. Acquiring and releasing a slot of an existing key allocates nothing. Keys without live
/// leases are forgotten by a sweep at most once a minute.
/// </summary>
public sealed class InMemoryConcurrencyStore : IConcurrencyStore
{
    private static readonly TimeSpan SweepInterval = TimeSpan.FromMinutes(1);

    private readonly ConcurrentDictionary<string, Slots> _keys = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;
    private long _nextId;
    private long _nextSweep;

    /// <summary>Creates a store on <paramref name="time"/>.</summary>
    /// <param name="time">The clock leases expire by.</param>
    public InMemoryConcurrencyStore(TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(time);
        _time = time;
        _nextSweep = time.GetTimestamp() + Ticks(SweepInterval);
    }

    /// <summary>Gets the keys held in memory (live or not yet swept).</summary>
    public int KeyCount => _keys.Count;

    /// <inheritdoc />
    public ValueTask<ConcurrencyLease> TryAcquireAsync(string key, int limit, TimeSpan leaseDuration, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        cancellationToken.ThrowIfCancellationRequested();
        var now = _time.GetTimestamp();
        if (now >= Volatile.Read(ref _nextSweep))
        {
            Sweep(now);
        }

        var expires = now + Ticks(leaseDuration);
        while (true)
        {
            var slots = _keys.TryGetValue(key, out var found) ? found : _keys.GetOrAdd(key, static _ => new Slots());
            lock (slots)
            {
                if (slots.Dead)
                {
                    continue;
                }

                slots.PurgeExpired_NeedsLock(now);
                if (slots.Count >= limit)
                {
                    return ValueTask.FromResult(ConcurrencyLease.Refused(slots.Count));
                }

                var id = Interlocked.Increment(ref _nextId);
                slots.Add_NeedsLock(id, expires);
                return ValueTask.FromResult(ConcurrencyLease.Granted(id, slots.Count));
            }
        }
    }

    /// <inheritdoc />
    public ValueTask<bool> RenewAsync(string key, long leaseId, TimeSpan leaseDuration, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        cancellationToken.ThrowIfCancellationRequested();
        if (!_keys.TryGetValue(key, out var slots))
        {
            return ValueTask.FromResult(false);
        }

        var now = _time.GetTimestamp();
        lock (slots)
        {
            slots.PurgeExpired_NeedsLock(now);
            return ValueTask.FromResult(slots.Renew_NeedsLock(leaseId, now + Ticks(leaseDuration)));
        }
    }

    /// <inheritdoc />
    public ValueTask ReleaseAsync(string key, long leaseId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (_keys.TryGetValue(key, out var slots))
        {
            lock (slots)
            {
                slots.Remove_NeedsLock(leaseId);
            }
        }

        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask<int> CountAsync(string key, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        cancellationToken.ThrowIfCancellationRequested();
        if (!_keys.TryGetValue(key, out var slots))
        {
            return ValueTask.FromResult(0);
        }

        lock (slots)
        {
            slots.PurgeExpired_NeedsLock(_time.GetTimestamp());
            return ValueTask.FromResult(slots.Count);
        }
    }

    private void Sweep(long now)
    {
        var due = Volatile.Read(ref _nextSweep);
        if (now < due || Interlocked.CompareExchange(ref _nextSweep, now + Ticks(SweepInterval), due) != due)
        {
            return;
        }

        foreach (var (key, slots) in _keys)
        {
            lock (slots)
            {
                slots.PurgeExpired_NeedsLock(now);
                if (slots.Count == 0)
                {
                    slots.Dead = true;
                    _keys.TryRemove(new KeyValuePair<string, Slots>(key, slots));
                }
            }
        }
    }

    private long Ticks(TimeSpan duration)
        => duration <= TimeSpan.Zero ? 0 : (long)Math.Min(duration.TotalSeconds * _time.TimestampFrequency, long.MaxValue / 4);

    /// <summary>The live leases of one key: ids and expiry timestamps in two parallel arrays, unordered.</summary>
    private sealed class Slots
    {
        private long[] _ids = new long[4];
        private long[] _expires = new long[4];

        public int Count { get; private set; }

        public bool Dead { get; set; }

        public void Add_NeedsLock(long id, long expires)
        {
            if (Count == _ids.Length)
            {
                Array.Resize(ref _ids, Count * 2);
                Array.Resize(ref _expires, Count * 2);
            }

            _ids[Count] = id;
            _expires[Count] = expires;
            Count++;
        }

        public void PurgeExpired_NeedsLock(long now)
        {
            for (var i = Count - 1; i >= 0; i--)
            {
                if (_expires[i] <= now)
                {
                    RemoveAt(i);
                }
            }
        }

        public bool Renew_NeedsLock(long id, long expires)
        {
            var index = IndexOf(id);
            if (index < 0)
            {
                return false;
            }

            _expires[index] = expires;
            return true;
        }

        public void Remove_NeedsLock(long id)
        {
            var index = IndexOf(id);
            if (index >= 0)
            {
                RemoveAt(index);
            }
        }

        private int IndexOf(long id)
        {
            for (var i = 0; i < Count; i++)
            {
                if (_ids[i] == id)
                {
                    return i;
                }
            }

            return -1;
        }

        private void RemoveAt(int index)
        {
            Count--;
            _ids[index] = _ids[Count];
            _expires[index] = _expires[Count];
        }
    }
}
