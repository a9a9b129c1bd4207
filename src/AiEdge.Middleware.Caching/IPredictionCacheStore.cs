namespace AiEdge.Middleware.Caching;

/// <summary>
/// The prediction cache's shared level: entries every replica can read (NGINX's <c>proxy_cache_path</c> zone, but
/// shared) and the per-key lock behind request coalescing (NGINX's <c>proxy_cache_lock</c>). The first level, in
/// process, is always there in front of it; the store is asked only when the first level misses.
/// </summary>
/// <remarks>
/// <para><b>Registration.</b> Register one singleton <see cref="IPredictionCacheStore"/> and the prediction cache
/// uses it for its lock, and for its entries when <see cref="PredictionCacheOptions.UseDistributedCache"/> is on.
/// Without one, the cache keeps its lock in process (<see cref="InMemoryPredictionCacheStore"/>, no entries beside the
/// first level) or, when the app registered an <c>IDistributedCache</c> and the option is on, keeps entries there
/// with a lock in process.</para>
/// <para><b>Keys</b> are opaque (<see cref="PredictionCacheKey"/>; its text form is 64 lowercase hex digits). An
/// entry and the lock of one key are separate things: a store may keep them side by side (Redis keeps both in one hash
/// slot so one script reaches both). <b>Values</b> are opaque bytes, returned exactly as stored.</para>
/// <para><b>Entries.</b> <see cref="SetAsync"/> keeps a value for its time to live; after that <see cref="GetAsync"/>
/// returns <see langword="null"/>. A store may measure the time to live on its own clock (Redis does) and may drop an
/// entry early (eviction, restart, failure); it must never return another key's bytes nor a partial value.</para>
/// <para><b>The lock.</b> At most one owner holds a key at a time. Owners are unique per request (a new
/// <see cref="Guid"/>); only the holder's <see cref="ReleaseAsync"/> frees the lock, anyone else's does nothing. A lock
/// not released ends after its lease, so a crashed holder never blocks a key longer than that.
/// <see cref="WaitAsync"/> may return early or spuriously (callers always look again and retry), must return no later
/// than its timeout, and honours cancellation by throwing <see cref="OperationCanceledException"/>.</para>
/// <para><b>One round trip.</b> <see cref="GetOrAcquireAsync"/> reads the entry and, only when there is none, tries
/// the lock: it gives the entry or the lock, never both. <see cref="SetAndReleaseAsync"/> stores the entry and then
/// releases the owner's lock, in that order, so a waiter woken by the release finds the entry. A store whose entries and
/// lock live apart may do each in two steps, keeping that order.</para>
/// <para><b>Failure.</b> No method throws for an ordinary outcome (a missing entry, a held lock, a timeout). A store
/// whose backing service fails may lose entries, answer a read with <see langword="null"/>, fall back to a lock in
/// process, or throw: the middleware then logs, treats a read as a miss, drops a write and runs a request uncoalesced.
/// Cancellation is the one exception a caller should expect on purpose.</para>
/// </remarks>
public interface IPredictionCacheStore
{
    /// <summary>Reads the entry of <paramref name="key"/>.</summary>
    /// <param name="key">The entry's key.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The stored bytes, or <see langword="null"/> when there is no live entry.</returns>
    ValueTask<byte[]?> GetAsync(PredictionCacheKey key, CancellationToken cancellationToken);

    /// <summary>Stores <paramref name="value"/> under <paramref name="key"/> for <paramref name="timeToLive"/>, replacing what was there.</summary>
    /// <param name="key">The entry's key.</param>
    /// <param name="value">The bytes to keep; the store copies them or keeps them unchanged.</param>
    /// <param name="timeToLive">How long the entry lives; positive.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>A task that completes when the write is done (or given up).</returns>
    ValueTask SetAsync(PredictionCacheKey key, ReadOnlyMemory<byte> value, TimeSpan timeToLive, CancellationToken cancellationToken);

    /// <summary>Takes the lock on <paramref name="key"/> for <paramref name="owner"/> for at most <paramref name="lease"/>.</summary>
    /// <param name="key">The lock's key.</param>
    /// <param name="owner">The caller's unique owner token.</param>
    /// <param name="lease">How long the lock lasts unless released first; positive.</param>
    /// <param name="cancellationToken">Cancels the attempt.</param>
    /// <returns><see langword="true"/> when the caller now holds the lock; <see langword="false"/> when someone else does.</returns>
    ValueTask<bool> TryAcquireAsync(PredictionCacheKey key, Guid owner, TimeSpan lease, CancellationToken cancellationToken);

    /// <summary>Releases the lock on <paramref name="key"/> when <paramref name="owner"/> holds it and wakes its waiters; otherwise does nothing.</summary>
    /// <param name="key">The lock's key.</param>
    /// <param name="owner">The owner token that took it.</param>
    /// <param name="cancellationToken">Cancels the release (the lease then ends the lock).</param>
    /// <returns>A task that completes when the release is done.</returns>
    ValueTask ReleaseAsync(PredictionCacheKey key, Guid owner, CancellationToken cancellationToken);

    /// <summary>Waits until the lock on <paramref name="key"/> is released or expired, or <paramref name="timeout"/> passed.</summary>
    /// <param name="key">The lock's key.</param>
    /// <param name="timeout">The longest wait.</param>
    /// <param name="cancellationToken">Cancels the wait with <see cref="OperationCanceledException"/>.</param>
    /// <returns><see langword="true"/> when the lock is (probably) free; <see langword="false"/> when the timeout passed first.</returns>
    ValueTask<bool> WaitAsync(PredictionCacheKey key, TimeSpan timeout, CancellationToken cancellationToken);

    /// <summary>Reads the entry of <paramref name="key"/> and, only when there is none, tries to take its lock for <paramref name="owner"/>.</summary>
    /// <param name="key">The entry's and the lock's key.</param>
    /// <param name="owner">The caller's unique owner token.</param>
    /// <param name="lease">How long the lock lasts unless released first; positive.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The entry, or whether the lock was taken; never both.</returns>
    ValueTask<PredictionCacheLookup> GetOrAcquireAsync(PredictionCacheKey key, Guid owner, TimeSpan lease, CancellationToken cancellationToken);

    /// <summary>Stores <paramref name="value"/> as <see cref="SetAsync"/> does, then releases the lock as <see cref="ReleaseAsync"/> does.</summary>
    /// <param name="key">The entry's and the lock's key.</param>
    /// <param name="value">The bytes to keep.</param>
    /// <param name="timeToLive">How long the entry lives; positive.</param>
    /// <param name="owner">The owner token that took the lock.</param>
    /// <param name="cancellationToken">Cancels the call (the lease then ends the lock).</param>
    /// <returns>A task that completes when both are done.</returns>
    ValueTask SetAndReleaseAsync(PredictionCacheKey key, ReadOnlyMemory<byte> value, TimeSpan timeToLive, Guid owner, CancellationToken cancellationToken);
}
