using AiEdge.Middleware.Internal;
using AiEdge.Middleware.Caching;
using Microsoft.Extensions.Options;

namespace AiEdge.Middleware.Caching.Internal;

/// <summary>
/// The in-memory first level: least-recently-used entries bounded in bytes (<see cref="CachedResponse.Size"/>: each
/// entry's body, private headers and bookkeeping), one lock, no await inside it. Entries leave when their stale window
/// ends or when room is needed. Each entry is its own list node and its own key, so storing one allocates nothing
/// beside it (but the set's growth while the cache fills).
/// </summary>
internal sealed class MemoryResponseCache
{
    private readonly Lock _lock = new();
    // The entries keyed by their own LruKey: a slot is one reference (no copy of the 32-byte key beside it).
    private readonly HashSet<CachedResponse> _entries = new(KeyComparer.Instance);
    private readonly HashSet<CachedResponse>.AlternateLookup<CacheKey> _byKey;
    private readonly TimeProvider _time;
    private readonly CachingMetrics _metrics;
    private readonly long _limit;
    private CachedResponse? _head;
    private CachedResponse? _tail;
    private long _size;

    public MemoryResponseCache(IOptions<PredictionCacheOptions> options, TimeProvider time, CachingMetrics metrics)
    {
        _limit = options.Value.SizeLimit;
        _time = time;
        _metrics = metrics;
        _byKey = _entries.GetAlternateLookup<CacheKey>();
    }

    /// <summary>Gets the bytes held.</summary>
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

    /// <summary>Gets the number of entries held.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _entries.Count;
            }
        }
    }

    /// <summary>Finds the entry for <paramref name="key"/> that is fresh or still within its stale window.</summary>
    public CachedResponse? Get(in CacheKey key)
    {
        var now = _time.GetUtcNow().UtcTicks;
        long removed = 0;
        CachedResponse? found = null;
        lock (_lock)
        {
            if (_byKey.TryGetValue(key, out var entry))
            {
                if (entry.StaleUntilTicks <= now)
                {
                    _entries.Remove(entry);
                    removed = Unlink_NeedsLock(entry);
                }
                else
                {
                    MoveToFront_NeedsLock(entry);
                    found = entry;
                }
            }
        }

        if (removed != 0)
        {
            _metrics.CacheStoredBytes(-removed);
        }

        return found;
    }

    /// <summary>Stores <paramref name="response"/> under <paramref name="key"/>, evicting least recently used entries to stay within the limit.</summary>
    /// <returns><see langword="false"/> when the entry alone exceeds the limit.</returns>
    /// <remarks>
    /// The cache links <paramref name="response"/> itself into its list. An instance already stored (here under
    /// another key, or in another cache) is stored as a copy sharing its arrays.
    /// </remarks>
    public bool Set(in CacheKey key, CachedResponse response)
    {
        if (response.Size > _limit)
        {
            return false;
        }

        var entry = response.TryClaim() ? response : null;
        long delta;
        lock (_lock)
        {
            var exists = _byKey.TryGetValue(key, out var existing);
            if (exists && ReferenceEquals(existing, response))
            {
                MoveToFront_NeedsLock(response);
                return true;
            }

            entry ??= response.CopyUnclaimed();
            entry.TryClaim();
            delta = entry.Size;
            if (exists)
            {
                _entries.Remove(existing!);
                delta -= Unlink_NeedsLock(existing!);
            }

            entry.LruKey = key;
            _entries.Add(entry);
            AddToFront_NeedsLock(entry);
            _size += entry.Size;
            while (_size > _limit && _tail is { } tail && tail != entry)
            {
                _entries.Remove(tail);
                delta -= Unlink_NeedsLock(tail);
            }
        }

        _metrics.CacheStoredBytes(delta);
        return true;
    }

    // Takes the entry out of the list (the caller removes it from the set) and gives the bytes it freed.
    private long Unlink_NeedsLock(CachedResponse entry)
    {
        if (entry.LruPrevious is not null)
        {
            entry.LruPrevious.LruNext = entry.LruNext;
        }
        else
        {
            _head = entry.LruNext;
        }

        if (entry.LruNext is not null)
        {
            entry.LruNext.LruPrevious = entry.LruPrevious;
        }
        else
        {
            _tail = entry.LruPrevious;
        }

        // No links from a dead entry (it may sit in an older generation than its neighbours).
        entry.LruPrevious = entry.LruNext = null;
        _size -= entry.Size;
        return entry.Size;
    }

    private void AddToFront_NeedsLock(CachedResponse entry)
    {
        entry.LruNext = _head;
        if (_head is not null)
        {
            _head.LruPrevious = entry;
        }

        _head = entry;
        _tail ??= entry;
    }

    private void MoveToFront_NeedsLock(CachedResponse entry)
    {
        if (_head == entry)
        {
            return;
        }

        entry.LruPrevious!.LruNext = entry.LruNext;
        if (entry.LruNext is not null)
        {
            entry.LruNext.LruPrevious = entry.LruPrevious;
        }
        else
        {
            _tail = entry.LruPrevious;
        }

        entry.LruPrevious = null;
        entry.LruNext = _head;
        _head!.LruPrevious = entry;
        _head = entry;
    }

    // Entries are equal when their keys are; a CacheKey finds its entry without an entry to compare with.
    private sealed class KeyComparer : IEqualityComparer<CachedResponse>, IAlternateEqualityComparer<CacheKey, CachedResponse>
    {
        public static readonly KeyComparer Instance = new();

        public bool Equals(CachedResponse? x, CachedResponse? y)
            => ReferenceEquals(x, y) || (x is not null && y is not null && x.LruKey.Equals(y.LruKey));

        public int GetHashCode(CachedResponse obj) => obj.LruKey.GetHashCode();

        public bool Equals(CacheKey alternate, CachedResponse other) => alternate.Equals(other.LruKey);

        public int GetHashCode(CacheKey alternate) => alternate.GetHashCode();

        // Never called: entries are added whole, never from a bare key.
        public CachedResponse Create(CacheKey alternate) => throw new NotSupportedException("Entries are added whole.");
    }
}
