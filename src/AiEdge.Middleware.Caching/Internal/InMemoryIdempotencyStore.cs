using AiEdge.Middleware.Internal;
namespace AiEdge.Middleware.Caching.Internal;

/// <summary>
/// The in-process <see cref="IIdempotencyStore"/>, bounded in bytes: one lock (no await inside it), claims and
/// completed records each in a list ordered by age, completed records evicted oldest first when room is needed.
/// </summary>
/// <remarks>
/// <para>A running claim is never evicted: a retry would then find the key absent and run the request a second
/// time. When the bound is reached and only claims (and no completed record) are left to free, a new key is refused
/// with <see cref="IdempotencyClaimStatus.Full"/>, and a completed response that does not fit is not kept (the claim
/// is dropped; a retry runs afresh, as for a response larger than the body limit).</para>
/// <para>Sizes (<see cref="SlotSize"/>) count the key, the token, the fingerprint, the recorded response
/// (<see cref="CachedResponse.Size"/>: body, private headers, bookkeeping), the slot and its dictionary entry.</para>
/// <para>Expiry: the middleware uses one lease and one retention, so each list is also in expiry order and expired
/// slots are taken from the heads: on every claim (amortized: each slot is removed once), and by a timer every
/// <see cref="SweepInterval"/> so an idle store shrinks. A slot given a shorter time than older ones leaves when it
/// is looked up or reaches the head.</para>
/// </remarks>
internal sealed class InMemoryIdempotencyStore : IIdempotencyStore, IDisposable
{
    /// <summary>The default bound, in bytes (64 MiB).</summary>
    public const long DefaultSizeLimit = 64L * 1024 * 1024;

    /// <summary>How often the timer removes expired slots.</summary>
    public static readonly TimeSpan SweepInterval = TimeSpan.FromMinutes(1);

    // The slot object (header, 6 references, 2 longs) and its dictionary entry with bucket, with room for the
    // dictionary's spare capacity (its arrays grow by doubling and never shrink).
    private const long SlotOverhead = 80 + 56;

    // The IdempotencyRecord object (header and two references).
    private const long RecordOverhead = 32;

    private readonly Lock _lock = new();
    private readonly Dictionary<string, Slot> _slots = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;
    private readonly CachingMetrics? _metrics;
    private readonly long _limit;
    private readonly ITimer _sweeper;
    private readonly SlotList _claims = new();
    private readonly SlotList _records = new();
    private long _size;

    /// <summary>Creates a store holding at most <paramref name="sizeLimit"/> bytes.</summary>
    /// <param name="time">The clock.</param>
    /// <param name="sizeLimit">The bound, in bytes.</param>
    /// <param name="metrics">Receives the store's size and evictions, when given.</param>
    public InMemoryIdempotencyStore(TimeProvider time, long sizeLimit = DefaultSizeLimit, CachingMetrics? metrics = null)
    {
        ArgumentNullException.ThrowIfNull(time);
        ArgumentOutOfRangeException.ThrowIfLessThan(sizeLimit, 1);
        _time = time;
        _limit = sizeLimit;
        _metrics = metrics;

        // The timer holds the store weakly, so a store nobody disposes (a shared store's local fallback) can still
        // be collected; the timer then stops itself.
        var sweeper = new Sweeper(new WeakReference<InMemoryIdempotencyStore>(this));
        _sweeper = time.CreateTimer(static state => ((Sweeper)state!).Tick(), sweeper, SweepInterval, SweepInterval);
        sweeper.Timer = _sweeper;
    }

    /// <summary>Gets the number of keys held (claimed or completed).</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _slots.Count;
            }
        }
    }

    /// <summary>Gets the number of running claims held.</summary>
    public int ClaimCount
    {
        get
        {
            lock (_lock)
            {
                return _claims.Count;
            }
        }
    }

    /// <summary>Gets the estimated bytes held.</summary>
    public long Size
    {
        get
        {
            lock (_lock)
            {
                return _size;
            }
        }
    }

    /// <summary>Gets the bound, in bytes.</summary>
    public long SizeLimit => _limit;

    /// <summary>The estimated bytes of a slot: the key, the fingerprint, the token of a claim or the record of a completed key, and fixed overhead.</summary>
    public static long SlotSize(string key, byte[] fingerprint, string? token, IdempotencyRecord? record)
    {
        var size = SlotOverhead + StringSize(key) + CachedResponse.ArrayOverhead + fingerprint.Length;
        if (token is not null)
        {
            size += StringSize(token);
        }

        if (record is not null)
        {
            size += RecordOverhead + record.Response.Size;
            if (!ReferenceEquals(record.Fingerprint, fingerprint))
            {
                size += CachedResponse.ArrayOverhead + record.Fingerprint.Length;
            }
        }

        return size;
    }

    public ValueTask<IdempotencyClaim> TryClaimAsync(string key, byte[] fingerprint, string token, TimeSpan lease, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow().UtcTicks;
        var change = default(Change);
        IdempotencyClaim result;
        lock (_lock)
        {
            result = TryClaim_NeedsLock(key, fingerprint, token, lease, now, ref change);
        }

        Report(change);
        return ValueTask.FromResult(result);
    }

    public ValueTask<bool> CompleteAsync(string key, string token, IdempotencyRecord record, TimeSpan retention, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow().UtcTicks;
        var change = default(Change);
        bool kept;
        lock (_lock)
        {
            if (!_slots.TryGetValue(key, out var slot) || slot.Record is not null || !string.Equals(slot.Token, token, StringComparison.Ordinal))
            {
                return ValueTask.FromResult(false);
            }

            // The claim leaves its list first, so making room can never take it.
            _claims.Remove(slot);
            var size = SlotSize(key, slot.Fingerprint, null, record);
            var grow = size - slot.Size;
            kept = MakeRoom_NeedsLock(grow, size, ref change);
            if (kept)
            {
                slot.Token = null;
                slot.Record = record;
                slot.UntilTicks = Ticks(now, retention);
                slot.Size = size;
                _records.AddLast(slot);
                _size += grow;
                change.Bytes += grow;
            }
            else
            {
                // No room even with every completed record gone: the response is not kept and the key is free.
                _slots.Remove(key);
                _size -= slot.Size;
                change.Bytes -= slot.Size;
                change.Keys--;
            }
        }

        Report(change);
        return ValueTask.FromResult(kept);
    }

    public ValueTask ReleaseAsync(string key, string token, CancellationToken cancellationToken)
    {
        var change = default(Change);
        lock (_lock)
        {
            if (_slots.TryGetValue(key, out var slot) && slot.Record is null && string.Equals(slot.Token, token, StringComparison.Ordinal))
            {
                Remove_NeedsLock(slot, ref change);
            }
        }

        Report(change);
        return ValueTask.CompletedTask;
    }

    public ValueTask<IdempotencyRecord?> GetAsync(string key, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow().UtcTicks;
        lock (_lock)
        {
            return ValueTask.FromResult(_slots.TryGetValue(key, out var slot) && slot.UntilTicks > now ? slot.Record : null);
        }
    }

    /// <summary>Removes every expired slot at the heads of the lists (what the timer does).</summary>
    public void Sweep()
    {
        var now = _time.GetUtcNow().UtcTicks;
        var change = default(Change);
        lock (_lock)
        {
            RemoveExpired_NeedsLock(now, ref change);
        }

        Report(change);
    }

    public void Dispose() => _sweeper.Dispose();

    private static long StringSize(string value) => CachedResponse.StringOverhead + (value.Length * 2L);

    private static long Ticks(long now, TimeSpan span)
        => span.Ticks >= DateTimeOffset.MaxValue.UtcTicks - now ? DateTimeOffset.MaxValue.UtcTicks : now + span.Ticks;

    private void Report(Change change)
    {
        if (_metrics is not null && (change.Bytes != 0 || change.Keys != 0 || change.Evicted != 0))
        {
            _metrics.IdempotencyStoreChanged(change.Bytes, change.Keys, change.Evicted);
        }
    }

    private IdempotencyClaim TryClaim_NeedsLock(string key, byte[] fingerprint, string token, TimeSpan lease, long now, ref Change change)
    {
        RemoveExpired_NeedsLock(now, ref change);
        if (_slots.TryGetValue(key, out var slot))
        {
            if (slot.UntilTicks > now)
            {
                return slot.Record is { } record
                    ? new IdempotencyClaim(IdempotencyClaimStatus.Completed, record.Fingerprint, record)
                    : new IdempotencyClaim(IdempotencyClaimStatus.InProgress, slot.Fingerprint, null);
            }

            Remove_NeedsLock(slot, ref change);
        }

        var size = SlotSize(key, fingerprint, token, null);
        if (!MakeRoom_NeedsLock(size, size, ref change))
        {
            return IdempotencyClaim.Full;
        }

        slot = new Slot(key, token, fingerprint, Ticks(now, lease), size);
        _slots.Add(key, slot);
        _claims.AddLast(slot);
        _size += size;
        change.Bytes += size;
        change.Keys++;
        return IdempotencyClaim.Claimed;
    }

    // Evicts completed records, oldest first, until `grow` more bytes fit, for a slot of `slotSize` bytes that is in
    // neither list. False, evicting nothing, when the slot would not fit beside the running claims even with every
    // completed record gone.
    private bool MakeRoom_NeedsLock(long grow, long slotSize, ref Change change)
    {
        if (_claims.Bytes + slotSize > _limit)
        {
            return false;
        }

        while (_size + grow > _limit && _records.First is { } oldest)
        {
            Remove_NeedsLock(oldest, ref change);
            change.Evicted++;
        }

        return true;
    }

    private void RemoveExpired_NeedsLock(long now, ref Change change)
    {
        while (_records.First is { } record && record.UntilTicks <= now)
        {
            Remove_NeedsLock(record, ref change);
        }

        while (_claims.First is { } claim && claim.UntilTicks <= now)
        {
            Remove_NeedsLock(claim, ref change);
        }
    }

    private void Remove_NeedsLock(Slot slot, ref Change change)
    {
        (slot.Record is null ? _claims : _records).Remove(slot);
        _slots.Remove(slot.Key);
        _size -= slot.Size;
        change.Bytes -= slot.Size;
        change.Keys--;
    }

    private struct Change
    {
        public long Bytes;
        public int Keys;
        public int Evicted;
    }

    private sealed class Slot(string key, string token, byte[] fingerprint, long untilTicks, long size)
    {
        public readonly string Key = key;
        public readonly byte[] Fingerprint = fingerprint;
        public string? Token = token;
        public IdempotencyRecord? Record;
        public long UntilTicks = untilTicks;
        public long Size = size;
        public Slot? Previous;
        public Slot? Next;
    }

    // A doubly linked list threaded through the slots themselves (no node allocations).
    private sealed class SlotList
    {
        public Slot? First { get; private set; }

        public int Count { get; private set; }

        public long Bytes { get; private set; }

        private Slot? _last;

        public void AddLast(Slot slot)
        {
            slot.Previous = _last;
            slot.Next = null;
            if (_last is null)
            {
                First = slot;
            }
            else
            {
                _last.Next = slot;
            }

            _last = slot;
            Count++;
            Bytes += slot.Size;
        }

        public void Remove(Slot slot)
        {
            if (slot.Previous is null)
            {
                First = slot.Next;
            }
            else
            {
                slot.Previous.Next = slot.Next;
            }

            if (slot.Next is null)
            {
                _last = slot.Previous;
            }
            else
            {
                slot.Next.Previous = slot.Previous;
            }

            slot.Previous = slot.Next = null;
            Count--;
            Bytes -= slot.Size;
        }
    }

    private sealed class Sweeper(WeakReference<InMemoryIdempotencyStore> store)
    {
        public ITimer? Timer { get; set; }

        public void Tick()
        {
            if (store.TryGetTarget(out var target))
            {
                target.Sweep();
            }
            else
            {
                Timer?.Dispose();
            }
        }
    }
}
