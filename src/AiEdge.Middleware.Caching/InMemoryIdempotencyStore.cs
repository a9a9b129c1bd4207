using AiEdge.Middleware.Caching.Internal;
using AiEdge.Middleware.Internal;

namespace AiEdge.Middleware.Caching;

/// <summary>
/// The default <see cref="IIdempotencyStore"/>: claims and records in this process's memory, bounded in bytes,
/// measured on a <see cref="TimeProvider"/>. It keeps records as objects (no serialization). <c>AddIdempotency()</c>
/// registers one bounded by <see cref="IdempotencyOptions.SizeLimit"/>; a shared store (Redis) may use it as its
/// fallback while its backend is unreachable.
/// </summary>
/// <remarks>
/// <para>Bound: when a new key or a completed response needs room, completed records are evicted oldest first. A
/// running claim is never evicted (a retry would then find the key absent and run the request a second time): when
/// only running claims are left, a new key is refused with <see cref="IdempotencyClaimStatus.Full"/>, and a
/// completed response that does not fit is not kept (<see cref="CompleteAsync"/> answers <see langword="false"/> and
/// drops the claim; a retry runs afresh, as for a response larger than the body limit). Sizes are estimates of the
/// memory held: the key, the token, the fingerprint, the recorded response (body, private headers, bookkeeping) and
/// the store's own bookkeeping per key.</para>
/// <para>Expiry: an expired claim or record is gone for every method as soon as its time ends. Memory is reclaimed on
/// claims and by a timer once a minute, so an idle store shrinks.</para>
/// <para>All methods complete synchronously and ignore their <see cref="CancellationToken"/>. Thread-safe: one lock,
/// never held across an await.</para>
/// </remarks>
public sealed class InMemoryIdempotencyStore : IIdempotencyStore, IDisposable
{
    // Internals: claims and completed records each in a list ordered by age. The middleware uses one lease and one
    // retention, so each list is also in expiry order and expired slots are taken from the heads: on every claim
    // (amortized: each slot is removed once), and by a timer every SweepInterval. A slot given a shorter time than
    // older ones leaves when it is looked up or reaches the head. SlotSize counts CachedResponse.Size.

    /// <summary>The default bound, in bytes (64 MiB).</summary>
    public const long DefaultSizeLimit = 64L * 1024 * 1024;

    /// <summary>How often the timer removes expired slots.</summary>
    internal static readonly TimeSpan SweepInterval = TimeSpan.FromMinutes(1);

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

    /// <summary>Creates a store holding at most <paramref name="sizeLimit"/> bytes (estimated).</summary>
    /// <param name="timeProvider">The clock that measures leases and retentions.</param>
    /// <param name="sizeLimit">The bound, in bytes; at least 1.</param>
    public InMemoryIdempotencyStore(TimeProvider timeProvider, long sizeLimit = DefaultSizeLimit)
        : this(timeProvider, sizeLimit, null)
    {
    }

    /// <summary>Creates a store reporting its size and evictions to <paramref name="metrics"/>, when given.</summary>
    internal InMemoryIdempotencyStore(TimeProvider time, long sizeLimit, CachingMetrics? metrics)
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
    internal int Count
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
    internal int ClaimCount
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
    internal long Size
    {
        get
        {
            lock (_lock)
            {
                return _size;
            }
        }
    }

    /// <summary>Gets the bound, in bytes (estimated memory held).</summary>
    public long SizeLimit => _limit;

    /// <summary>The estimated bytes of a slot: the key, the fingerprint, the token of a claim or the record of a completed key, and fixed overhead.</summary>
    internal static long SlotSize(string key, byte[] fingerprint, string? token, IdempotencyRecord? record)
    {
        var size = SlotOverhead + StringSize(key) + CachedResponse.ArrayOverhead + fingerprint.Length;
        if (token is not null)
        {
            size += StringSize(token);
        }

        if (record is not null)
        {
            size += RecordOverhead + record.Response.Size;
            if (!ReferenceEquals(record.FingerprintBytes, fingerprint))
            {
                size += CachedResponse.ArrayOverhead + record.FingerprintBytes.Length;
            }
        }

        return size;
    }

    /// <inheritdoc />
    public ValueTask<IdempotencyClaim> TryClaimAsync(string key, byte[] fingerprint, string token, TimeSpan lease, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(fingerprint);
        ArgumentNullException.ThrowIfNull(token);
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

    /// <inheritdoc />
    public ValueTask<bool> CompleteAsync(string key, string token, IdempotencyRecord record, TimeSpan retention, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(token);
        ArgumentNullException.ThrowIfNull(record);
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

    /// <inheritdoc />
    public ValueTask ReleaseAsync(string key, string token, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
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

    /// <inheritdoc />
    public ValueTask<IdempotencyRecord?> GetAsync(string key, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        var now = _time.GetUtcNow().UtcTicks;
        lock (_lock)
        {
            return ValueTask.FromResult(_slots.TryGetValue(key, out var slot) && slot.UntilTicks > now ? slot.Record : null);
        }
    }

    /// <summary>Removes every expired slot at the heads of the lists (what the timer does).</summary>
    internal void Sweep()
    {
        var now = _time.GetUtcNow().UtcTicks;
        var change = default(Change);
        lock (_lock)
        {
            RemoveExpired_NeedsLock(now, ref change);
        }

        Report(change);
    }

    /// <summary>Stops the timer that reclaims expired slots.</summary>
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
                    ? IdempotencyClaim.Completed(record)
                    : IdempotencyClaim.InProgress(slot.Fingerprint);
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
