using AiEdge.Middleware.Caching.Internal;

namespace AiEdge.Middleware.Caching;

/// <summary>
/// An <see cref="IPredictionCacheStore"/> within one process: entries in a dictionary that expire on the given
/// <see cref="TimeProvider"/>, and the coalescing lock in process. The prediction cache's default lock (its entries
/// are not used then: the first level already holds them); a shared store's fallback while its backing service is
/// down; and a reference for the contract in tests.
/// </summary>
/// <remarks>
/// Entries are not bounded in bytes: an expired one leaves when it is read, and all expired ones are swept whenever the
/// count doubles since the last sweep. Keep large or long-lived sets of entries in a store meant for them.
/// </remarks>
public sealed class InMemoryPredictionCacheStore : IPredictionCacheStore
{
    private readonly TimeProvider _time;
    private readonly InMemoryCacheLock _lock;
    private readonly Lock _entriesLock = new();
    private readonly Dictionary<PredictionCacheKey, Entry> _entries = [];
    private int _sweepAt = 64;

    /// <summary>Creates a store whose entries and leases run on <paramref name="time"/>.</summary>
    /// <param name="time">The clock of time-to-live, leases and waits.</param>
    public InMemoryPredictionCacheStore(TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(time);
        _time = time;
        _lock = new InMemoryCacheLock(time);
    }

    /// <summary>Gets the number of keys whose lock is held, for tests.</summary>
    internal int HeldCount => _lock.HeldCount;

    /// <inheritdoc />
    public ValueTask<byte[]?> GetAsync(PredictionCacheKey key, CancellationToken cancellationToken)
        => ValueTask.FromResult(Get(key));

    /// <inheritdoc />
    public ValueTask SetAsync(PredictionCacheKey key, ReadOnlyMemory<byte> value, TimeSpan timeToLive, CancellationToken cancellationToken)
    {
        Set(key, value, timeToLive);
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask<bool> TryAcquireAsync(PredictionCacheKey key, Guid owner, TimeSpan lease, CancellationToken cancellationToken)
        => ValueTask.FromResult(_lock.TryAcquire(key, owner, lease));

    /// <inheritdoc />
    public ValueTask ReleaseAsync(PredictionCacheKey key, Guid owner, CancellationToken cancellationToken)
    {
        _lock.Release(key, owner);
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask<bool> WaitAsync(PredictionCacheKey key, TimeSpan timeout, CancellationToken cancellationToken)
        => _lock.WaitAsync(key, timeout, cancellationToken);

    /// <inheritdoc />
    public ValueTask<PredictionCacheLookup> GetOrAcquireAsync(PredictionCacheKey key, Guid owner, TimeSpan lease, CancellationToken cancellationToken)
    {
        var entry = Get(key);
        return ValueTask.FromResult(entry is not null
            ? new PredictionCacheLookup(entry, false)
            : new PredictionCacheLookup(null, _lock.TryAcquire(key, owner, lease)));
    }

    /// <inheritdoc />
    public ValueTask SetAndReleaseAsync(PredictionCacheKey key, ReadOnlyMemory<byte> value, TimeSpan timeToLive, Guid owner, CancellationToken cancellationToken)
    {
        // The entry first: a waiter the release wakes finds it.
        Set(key, value, timeToLive);
        _lock.Release(key, owner);
        return ValueTask.CompletedTask;
    }

    private byte[]? Get(in PredictionCacheKey key)
    {
        var now = _time.GetUtcNow();
        lock (_entriesLock)
        {
            if (!_entries.TryGetValue(key, out var entry))
            {
                return null;
            }

            if (entry.ExpiresAt <= now)
            {
                _entries.Remove(key);
                return null;
            }

            return entry.Value;
        }
    }

    private void Set(in PredictionCacheKey key, ReadOnlyMemory<byte> value, TimeSpan timeToLive)
    {
        if (timeToLive <= TimeSpan.Zero)
        {
            return;
        }

        var copy = value.ToArray();
        var now = _time.GetUtcNow();
        lock (_entriesLock)
        {
            _entries[key] = new Entry(copy, now + timeToLive);
            if (_entries.Count >= _sweepAt)
            {
                Sweep_NeedsLock(now);
                _sweepAt = Math.Max(64, _entries.Count * 2);
            }
        }
    }

    private void Sweep_NeedsLock(DateTimeOffset now)
    {
        foreach (var (key, entry) in _entries)
        {
            if (entry.ExpiresAt <= now)
            {
                _entries.Remove(key);
            }
        }
    }

    private readonly record struct Entry(byte[] Value, DateTimeOffset ExpiresAt);
}
