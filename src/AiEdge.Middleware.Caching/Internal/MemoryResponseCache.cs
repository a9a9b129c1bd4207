using AiEdge.Middleware.Caching;
using Microsoft.Extensions.Options;

namespace AiEdge.Middleware.Internal;

/// <summary>
/// The in-memory first level: least-recently-used entries bounded in bytes (each entry's body, headers and
/// bookkeeping), one lock, no await inside it. Entries leave when their stale window ends or when room is needed.
/// </summary>
internal sealed class MemoryResponseCache
{
    private readonly Lock _lock = new();
    private readonly Dictionary<CacheKey, Node> _entries = [];
    private readonly TimeProvider _time;
    private readonly AiEdgeMetrics _metrics;
    private readonly long _limit;
    private Node? _head;
    private Node? _tail;
    private long _size;

    public MemoryResponseCache(IOptions<PredictionCacheOptions> options, TimeProvider time, AiEdgeMetrics metrics)
    {
        _limit = options.Value.SizeLimit;
        _time = time;
        _metrics = metrics;
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
        var now = _time.GetUtcNow();
        long removed = 0;
        CachedResponse? found = null;
        lock (_lock)
        {
            if (_entries.TryGetValue(key, out var node))
            {
                if (node.Response.StaleUntil <= now)
                {
                    removed = Remove_NeedsLock(node);
                }
                else
                {
                    MoveToFront_NeedsLock(node);
                    found = node.Response;
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
    public bool Set(in CacheKey key, CachedResponse response)
    {
        if (response.Size > _limit)
        {
            return false;
        }

        long delta = response.Size;
        lock (_lock)
        {
            if (_entries.TryGetValue(key, out var existing))
            {
                delta -= Remove_NeedsLock(existing);
            }

            var node = new Node(key, response);
            _entries[key] = node;
            AddToFront_NeedsLock(node);
            _size += response.Size;
            while (_size > _limit && _tail is not null && _tail != node)
            {
                delta -= Remove_NeedsLock(_tail);
            }
        }

        _metrics.CacheStoredBytes(delta);
        return true;
    }

    private long Remove_NeedsLock(Node node)
    {
        _entries.Remove(node.Key);
        if (node.Previous is not null)
        {
            node.Previous.Next = node.Next;
        }
        else
        {
            _head = node.Next;
        }

        if (node.Next is not null)
        {
            node.Next.Previous = node.Previous;
        }
        else
        {
            _tail = node.Previous;
        }

        node.Previous = node.Next = null;
        _size -= node.Response.Size;
        return node.Response.Size;
    }

    private void AddToFront_NeedsLock(Node node)
    {
        node.Next = _head;
        if (_head is not null)
        {
            _head.Previous = node;
        }

        _head = node;
        _tail ??= node;
    }

    private void MoveToFront_NeedsLock(Node node)
    {
        if (_head == node)
        {
            return;
        }

        node.Previous!.Next = node.Next;
        if (node.Next is not null)
        {
            node.Next.Previous = node.Previous;
        }
        else
        {
            _tail = node.Previous;
        }

        node.Previous = null;
        node.Next = _head;
        _head!.Previous = node;
        _head = node;
    }

    private sealed class Node(CacheKey key, CachedResponse response)
    {
        public CacheKey Key { get; } = key;

        public CachedResponse Response { get; } = response;

        public Node? Previous { get; set; }

        public Node? Next { get; set; }
    }
}
