using System.Runtime.InteropServices;
using Microsoft.Extensions.Caching.Distributed;

namespace AiEdge.Middleware.Caching.Internal;

/// <summary>
/// The prediction cache's store over an app's <see cref="IDistributedCache"/>: entries there under
/// <c>aiedge:cache:{key}</c>, the coalescing lock in process (an <see cref="IDistributedCache"/> has no lock), so
/// replicas share entries but each coalesces on its own. The get-or-acquire and set-and-release calls are two steps
/// each, in the contract's order.
/// </summary>
internal sealed class DistributedCachePredictionCacheStore(IDistributedCache cache, TimeProvider time) : IPredictionCacheStore
{
    private const string Prefix = "aiedge:cache:";

    private readonly InMemoryCacheLock _lock = new(time);

    /// <summary>Gets the number of keys whose lock is held, for tests.</summary>
    internal int HeldCount => _lock.HeldCount;

    /// <summary>
    /// The distributed cache's key of <paramref name="key"/>. The braces make the hash a Redis Cluster hash tag, so an
    /// entry and a lock of the same key can live in one slot.
    /// </summary>
    internal static string EntryKey(in PredictionCacheKey key) => string.Concat(Prefix, "{", key.ToString(), "}");

    public async ValueTask<byte[]?> GetAsync(PredictionCacheKey key, CancellationToken cancellationToken)
        => await cache.GetAsync(EntryKey(key), cancellationToken).ConfigureAwait(false);

    public ValueTask SetAsync(PredictionCacheKey key, ReadOnlyMemory<byte> value, TimeSpan timeToLive, CancellationToken cancellationToken)
    {
        if (timeToLive <= TimeSpan.Zero)
        {
            return ValueTask.CompletedTask;
        }

        var bytes = MemoryMarshal.TryGetArray(value, out var segment) && segment.Offset == 0 && segment.Count == segment.Array!.Length
            ? segment.Array
            : value.ToArray();
        return new ValueTask(cache.SetAsync(EntryKey(key), bytes, new DistributedCacheEntryOptions { AbsoluteExpirationRelativeToNow = timeToLive }, cancellationToken));
    }

    public ValueTask<bool> TryAcquireAsync(PredictionCacheKey key, Guid owner, TimeSpan lease, CancellationToken cancellationToken)
        => ValueTask.FromResult(_lock.TryAcquire(key, owner, lease));

    public ValueTask ReleaseAsync(PredictionCacheKey key, Guid owner, CancellationToken cancellationToken)
    {
        _lock.Release(key, owner);
        return ValueTask.CompletedTask;
    }

    public ValueTask<bool> WaitAsync(PredictionCacheKey key, TimeSpan timeout, CancellationToken cancellationToken)
        => _lock.WaitAsync(key, timeout, cancellationToken);

    public async ValueTask<PredictionCacheLookup> GetOrAcquireAsync(PredictionCacheKey key, Guid owner, TimeSpan lease, CancellationToken cancellationToken)
    {
        var entry = await GetAsync(key, cancellationToken).ConfigureAwait(false);
        return entry is not null
            ? new PredictionCacheLookup(entry, false)
            : new PredictionCacheLookup(null, _lock.TryAcquire(key, owner, lease));
    }

    public async ValueTask SetAndReleaseAsync(PredictionCacheKey key, ReadOnlyMemory<byte> value, TimeSpan timeToLive, Guid owner, CancellationToken cancellationToken)
    {
        try
        {
            // The entry first: a waiter the release wakes finds it.
            await SetAsync(key, value, timeToLive, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _lock.Release(key, owner);
        }
    }
}
