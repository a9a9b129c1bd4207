using AiEdge.Middleware.Internal;
namespace AiEdge.Middleware.Caching.Internal;

/// <summary>
/// A cross-replica lock kept in the same store as the distributed cache's entries, so that the two steps a shared
/// miss takes at each end go together in one round trip: reading the entry and, when there is none, taking the lock;
/// then writing the entry and releasing the lock (the entry is written first, so a waiter woken by the release
/// finds it).
/// </summary>
internal interface ISharedCacheLock : ICacheLock
{
    /// <summary>Whether <paramref name="cache"/> keeps its entries where this lock can reach them in the same call.</summary>
    bool Shares(Microsoft.Extensions.Caching.Distributed.IDistributedCache cache);

    /// <summary>
    /// Reads the entry under <paramref name="entryKey"/> (an <see cref="Microsoft.Extensions.Caching.Distributed.IDistributedCache"/>
    /// key); when there is none, tries to take the lock <paramref name="lockKey"/> for <paramref name="owner"/>.
    /// Falls back as <see cref="ICacheLock.TryAcquireAsync"/> and a failed cache read do; throws only when cancelled.
    /// </summary>
    ValueTask<SharedCacheLookup> GetOrAcquireAsync(string entryKey, string lockKey, string owner, TimeSpan lease, CancellationToken cancellationToken);

    /// <summary>
    /// Writes <paramref name="value"/> under <paramref name="entryKey"/> for <paramref name="timeToLive"/>, then releases
    /// the lock if <paramref name="owner"/> still holds it. Never throws: a failed write is a lost second-level entry.
    /// </summary>
    ValueTask SetAndReleaseAsync(string entryKey, byte[] value, TimeSpan timeToLive, string lockKey, string owner);
}

/// <summary>What <see cref="ISharedCacheLock.GetOrAcquireAsync"/> found: the stored entry, or whether the lock was taken.</summary>
/// <param name="Entry">The stored bytes, or <see langword="null"/> when there were none (or they could not be read).</param>
/// <param name="Acquired">Whether the lock was taken (only ever when there was no entry).</param>
internal readonly record struct SharedCacheLookup(byte[]? Entry, bool Acquired);
