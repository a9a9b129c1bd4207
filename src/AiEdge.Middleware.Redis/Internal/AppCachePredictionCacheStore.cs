using System.Runtime.InteropServices;
using AiEdge.Middleware.Caching;
using Microsoft.Extensions.Caching.Distributed;

namespace AiEdge.Middleware.Redis.Internal;

/// <summary>
/// The prediction cache's store when the app registered its own <see cref="IDistributedCache"/> (for example
/// <c>AddStackExchangeRedisCache</c>, or the one under <c>HybridCache</c>): entries live there, under
/// <c>{prefix}cache:{{key}}</c> after the app cache's own instance name, so they follow the app's cache settings; the
/// cross-replica coalescing lock stays in AiEdge's Redis keys (an <see cref="IDistributedCache"/> has no lock). A
/// shared miss costs a read, a lock, a write and a release, one call each. An error of the app's cache is a miss,
/// or a lost write.
/// </summary>
internal sealed class AppCachePredictionCacheStore(IDistributedCache entries, RedisPredictionCacheStore locks, RedisOptions options, RedisMetrics? metrics) : IPredictionCacheStore
{
    private const string DistributedCacheConcern = "distributed-cache";
    private readonly string _prefix = options.KeyPrefix + RedisPredictionCacheStore.EntrySegment;

    private string EntryKey(in PredictionCacheKey key) => string.Concat(_prefix, key.ToString(), "}");

    public async ValueTask<byte[]?> GetAsync(PredictionCacheKey key, CancellationToken cancellationToken)
    {
        try
        {
            return await entries.GetAsync(EntryKey(key), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            metrics?.RedisFallback(DistributedCacheConcern);
            return null;
        }
    }

    public async ValueTask SetAsync(PredictionCacheKey key, ReadOnlyMemory<byte> value, TimeSpan timeToLive, CancellationToken cancellationToken)
    {
        if (timeToLive <= TimeSpan.Zero)
        {
            return;
        }

        var bytes = MemoryMarshal.TryGetArray(value, out var segment) && segment.Offset == 0 && segment.Count == segment.Array!.Length
            ? segment.Array
            : value.ToArray();
        try
        {
            await entries.SetAsync(EntryKey(key), bytes, new DistributedCacheEntryOptions { AbsoluteExpirationRelativeToNow = timeToLive }, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            metrics?.RedisFallback(DistributedCacheConcern);
        }
    }

    public ValueTask<bool> TryAcquireAsync(PredictionCacheKey key, Guid owner, TimeSpan lease, CancellationToken cancellationToken)
        => locks.TryAcquireAsync(key, owner, lease, cancellationToken);

    public ValueTask ReleaseAsync(PredictionCacheKey key, Guid owner, CancellationToken cancellationToken)
        => locks.ReleaseAsync(key, owner, cancellationToken);

    public ValueTask<bool> WaitAsync(PredictionCacheKey key, TimeSpan timeout, CancellationToken cancellationToken)
        => locks.WaitAsync(key, timeout, cancellationToken);

    public async ValueTask<PredictionCacheLookup> GetOrAcquireAsync(PredictionCacheKey key, Guid owner, TimeSpan lease, CancellationToken cancellationToken)
    {
        var entry = await GetAsync(key, cancellationToken).ConfigureAwait(false);
        return entry is not null
            ? new PredictionCacheLookup(entry, false)
            : new PredictionCacheLookup(null, await TryAcquireAsync(key, owner, lease, cancellationToken).ConfigureAwait(false));
    }

    public async ValueTask SetAndReleaseAsync(PredictionCacheKey key, ReadOnlyMemory<byte> value, TimeSpan timeToLive, Guid owner, CancellationToken cancellationToken)
    {
        // The entry first, so a replica woken by the release finds it.
        await SetAsync(key, value, timeToLive, cancellationToken).ConfigureAwait(false);
        await ReleaseAsync(key, owner, cancellationToken).ConfigureAwait(false);
    }
}
