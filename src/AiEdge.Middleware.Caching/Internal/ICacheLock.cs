using AiEdge.Middleware.Internal;
namespace AiEdge.Middleware.Caching.Internal;

/// <summary>
/// The short per-key lock behind request coalescing (NGINX's <c>proxy_cache_lock</c>): the holder computes the
/// response and stores it; others wait for the release and then look the entry up. The default
/// (<see cref="InMemoryCacheLock"/>) coalesces within the process; a shared implementation (Redis) coalesces
/// across replicas by registering its own singleton <see cref="ICacheLock"/> (the default is added with
/// <c>TryAdd</c>; a later registration should use <c>Replace</c>).
/// </summary>
/// <remarks>
/// <para>Keys are opaque ASCII strings (64 lowercase hex digits). Owners are unique tokens per request.</para>
/// <para>Contract: at most one owner holds a key at a time; a lock not released expires after its lease (a
/// crashed holder must not block a key longer than that). <see cref="WaitAsync"/> may return early or spuriously
/// (callers always re-check the cache and try to acquire again), must return no later than its timeout, and
/// must honour cancellation by throwing <see cref="OperationCanceledException"/>. Methods must not throw for
/// ordinary outcomes; a failing backing store may throw, and the middleware then runs the request uncoalesced.</para>
/// </remarks>
internal interface ICacheLock
{
    /// <summary>Takes the lock on <paramref name="key"/> for <paramref name="owner"/>; <see langword="false"/> when someone else holds it.</summary>
    ValueTask<bool> TryAcquireAsync(string key, string owner, TimeSpan lease, CancellationToken cancellationToken);

    /// <summary>Releases the lock when <paramref name="owner"/> holds it and wakes the waiters; otherwise does nothing.</summary>
    ValueTask ReleaseAsync(string key, string owner, CancellationToken cancellationToken);

    /// <summary>Waits until the lock on <paramref name="key"/> is released or expired, or <paramref name="timeout"/> passed.</summary>
    /// <returns><see langword="true"/> when the lock is (probably) free; <see langword="false"/> when the timeout passed first.</returns>
    ValueTask<bool> WaitAsync(string key, TimeSpan timeout, CancellationToken cancellationToken);
}
