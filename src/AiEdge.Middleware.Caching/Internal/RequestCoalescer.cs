using AiEdge.Middleware.Internal;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace AiEdge.Middleware.Caching.Internal;

/// <summary>
/// Who runs the endpoint for a key and who waits (NGINX's <c>proxy_cache_lock</c>): the one that takes the store's
/// lock runs, the others wait for its release and look again, and one that waited past the timeout runs on its own.
/// With a second level, the entry is read in the same call as the lock (<see cref="IPredictionCacheStore.GetOrAcquireAsync"/>)
/// and written in the same call as the release (<see cref="IPredictionCacheStore.SetAndReleaseAsync"/>), entry first.
/// The holder's run is shared with the requests of this process waiting for it (<see cref="SharedRun"/>): it is
/// cancelled only when the last client waiting for it has gone.
/// </summary>
internal sealed class RequestCoalescer(CacheLookup lookup, IPredictionCacheStore store, bool coalescing, TimeSpan timeout, TimeProvider time, CachingMetrics metrics, ILogger logger)
{
    // The runs of this process by key: a dictionary under a lock (its entries are inline, so a run adds nothing to the
    // heap), where followers also join, so that none joins a run its leader has ended.
    private readonly Dictionary<PredictionCacheKey, SharedRun> _runs = new();
    private readonly Lock _runsLock = new();
    private readonly SharedRun.Pool _pool = new();

    /// <summary>
    /// The lock holder runs the endpoint for every waiter of this process: from here to <see cref="EndRun"/> the
    /// request's <see cref="HttpContext.RequestAborted"/> is the shared run's, cancelled when the holder's client and
    /// every waiter have gone. Returns <see langword="null"/> when the caller does not hold the lock.
    /// </summary>
    public SharedRun? BeginRun(CacheKey key, Admission admission, HttpContext context)
    {
        if (!admission.Holding || RequestFeatures.Get<IHttpRequestLifetimeFeature>(context) is not { } lifetime)
        {
            return null;
        }

        var run = _pool.Rent(lifetime);
        lock (_runsLock)
        {
            _runs[key.ToStoreKey()] = run;
        }

        RequestFeatures.Set<IHttpRequestLifetimeFeature>(context, run);
        return run;
    }

    /// <summary>Ends a run <see cref="BeginRun"/> began: the request gets its own lifetime back.</summary>
    public void EndRun(CacheKey key, SharedRun run, HttpContext context, IHttpRequestLifetimeFeature lifetime)
    {
        var storeKey = key.ToStoreKey();
        lock (_runsLock)
        {
            if (_runs.TryGetValue(storeKey, out var current) && ReferenceEquals(current, run))
            {
                _runs.Remove(storeKey);
            }
        }

        RequestFeatures.Set(context, lifetime);
        run.Complete();
    }

    /// <summary>
    /// Looks the entry up and, on a miss, decides who runs: returns a fresh entry to serve, or tells the caller to run
    /// the endpoint (holding the lock or not, with a stale entry to fall back on or not).
    /// </summary>
    public async ValueTask<Admission> AdmitAsync(CacheKey key, bool revalidate, CancellationToken aborted)
    {
        var admission = default(Admission);

        // An entry it cannot serve (unreadable, or past serving even stale) stops the lock being tried with the read.
        var readWithLock = lookup.Shared && !revalidate;
        if (!revalidate)
        {
            var cached = lookup.GetLocal(key);
            if (cached is null && lookup.Shared)
            {
                if (coalescing)
                {
                    admission.Owner = OwnerTokens.Next();
                    PredictionCacheLookup found;
                    try
                    {
                        found = await store.GetOrAcquireAsync(key.ToStoreKey(), admission.Owner, timeout, aborted);
                    }
                    catch (Exception exception) when (exception is not OperationCanceledException)
                    {
                        PredictionCacheLog.DistributedFailed(logger, exception);
                        found = default;
                        readWithLock = false;
                    }

                    admission.Holding = found.Acquired;
                    cached = lookup.FromShared(key, found.Entry);
                    readWithLock &= cached is not null || found.Entry is null;
                }
                else
                {
                    cached = await lookup.GetSharedAsync(key, aborted);
                }
            }

            if (cached is not null)
            {
                var now = time.GetUtcNow();
                if (cached.ExpiresAt > now)
                {
                    admission.Hit = cached;
                    admission.Now = now;
                    return admission;
                }

                admission.Stale = cached.StaleUntil > now ? cached : null;
            }
        }

        if (!coalescing || admission.Holding)
        {
            return admission;
        }

        if (admission.Owner == Guid.Empty)
        {
            admission.Owner = OwnerTokens.Next();
        }

        var storeKey = key.ToStoreKey();
        var coalesced = false;
        while (true)
        {
            bool released;
            try
            {
                bool acquired;
                if (readWithLock && admission.Stale is null)
                {
                    // The holder may have finished since the entry was last read: reading it again in the same call as
                    // the lock, a request never runs the endpoint for an entry that was just stored.
                    var found = await store.GetOrAcquireAsync(storeKey, admission.Owner, timeout, aborted);
                    acquired = found.Acquired;
                    var entry = lookup.FromShared(key, found.Entry);
                    if (entry is not null)
                    {
                        var foundAt = time.GetUtcNow();
                        if (entry.ExpiresAt > foundAt)
                        {
                            admission.Hit = entry;
                            admission.Now = foundAt;
                            return admission;
                        }

                        // Stale: an entry is there, so the lock was not tried; the next try takes it directly.
                        admission.Stale = entry;
                        continue;
                    }

                    if (found.Entry is not null)
                    {
                        readWithLock = false;
                        continue;
                    }
                }
                else
                {
                    acquired = await store.TryAcquireAsync(storeKey, admission.Owner, timeout, aborted);
                }

                if (acquired)
                {
                    admission.Holding = true;
                    if (coalesced)
                    {
                        // The holder it waited for may have failed, and the next one stored its answer and released
                        // between this request's last look and its acquire: it looks once more, so a request that
                        // waited never runs the endpoint for an entry that was just stored.
                        var stored = await FindStoredSinceAsync(key, storeKey, admission.Owner, !(readWithLock && admission.Stale is null), aborted);
                        if (stored is not null)
                        {
                            admission.Holding = false;
                            admission.Hit = stored;
                            admission.Now = time.GetUtcNow();
                        }
                    }

                    return admission;
                }

                if (!coalesced)
                {
                    coalesced = true;
                    metrics.CacheCoalesced();
                    PredictionCacheLog.Coalesced(logger);
                }

                // Waiting for a run of this process counts as a client of it, so the run goes on while anyone waits.
                SharedRun? run;
                lock (_runsLock)
                {
                    run = _runs.TryGetValue(storeKey, out var shared) && shared.Join() ? shared : null;
                }

                try
                {
                    released = await store.WaitAsync(storeKey, timeout, aborted);
                }
                finally
                {
                    run?.Leave();
                }
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                PredictionCacheLog.LockFailed(logger, exception);
                return admission;
            }

            // After a release, the next try reads the second level in the same call as the lock, so only the first
            // level is checked here.
            var readWithNextTry = released && readWithLock && admission.Stale is null;
            var fresh = lookup.GetLocal(key) ?? (readWithNextTry ? null : await lookup.GetSharedAsync(key, aborted));
            var now = time.GetUtcNow();
            if (fresh is not null && fresh.ExpiresAt > now)
            {
                admission.Hit = fresh;
                admission.Now = now;
                return admission;
            }

            if (fresh is not null && fresh.StaleUntil > now)
            {
                admission.Stale = fresh;
            }

            if (!released)
            {
                // proxy_cache_lock_timeout: run without the lock rather than wait forever.
                return admission;
            }
        }
    }

    /// <summary>
    /// Looks for a fresh entry once the lock is taken after a wait (the first level, and the second when the lock was not
    /// taken in the same call as its read): when there is one, releases the lock and returns it. The lock is released
    /// too when the look is cancelled, so a request that leaves never keeps it.
    /// </summary>
    private async ValueTask<CachedResponse?> FindStoredSinceAsync(CacheKey key, PredictionCacheKey storeKey, Guid owner, bool shared, CancellationToken aborted)
    {
        CachedResponse? found;
        try
        {
            found = lookup.GetLocal(key) ?? (shared && lookup.Shared ? await lookup.GetSharedAsync(key, aborted) : null);
        }
        catch
        {
            await ReleaseQuietlyAsync(storeKey, owner);
            throw;
        }

        if (found is null || found.ExpiresAt <= time.GetUtcNow())
        {
            return null;
        }

        await ReleaseQuietlyAsync(storeKey, owner);
        return found;
    }

    private async ValueTask ReleaseQuietlyAsync(PredictionCacheKey storeKey, Guid owner)
    {
        try
        {
            await store.ReleaseAsync(storeKey, owner, CancellationToken.None);
        }
        catch (Exception exception)
        {
            PredictionCacheLog.LockFailed(logger, exception);
        }
    }

    /// <summary>
    /// After the run: writes what was <paramref name="stored"/> to the second level, then releases the lock if held (in
    /// one call when both), so a waiter the release wakes finds the entry. Never throws.
    /// </summary>
    public async ValueTask CompleteAsync(CacheKey key, Admission admission, CachedResponse? stored)
    {
        var released = false;
        if (stored is not null && lookup.Shared)
        {
            var timeToLive = stored.StaleUntil - time.GetUtcNow();
            if (timeToLive > TimeSpan.Zero)
            {
                try
                {
                    if (admission.Holding)
                    {
                        await store.SetAndReleaseAsync(key.ToStoreKey(), stored.Serialize(), timeToLive, admission.Owner, CancellationToken.None);
                        released = true;
                    }
                    else
                    {
                        await store.SetAsync(key.ToStoreKey(), stored.Serialize(), timeToLive, CancellationToken.None);
                    }
                }
                catch (Exception exception)
                {
                    PredictionCacheLog.DistributedFailed(logger, exception);
                }
            }
        }

        if (admission.Holding && !released)
        {
            try
            {
                await store.ReleaseAsync(key.ToStoreKey(), admission.Owner, CancellationToken.None);
            }
            catch (Exception exception)
            {
                PredictionCacheLog.LockFailed(logger, exception);
            }
        }
    }

    /// <summary>What <see cref="AdmitAsync"/> decided.</summary>
    internal struct Admission
    {
        /// <summary>A fresh entry to serve (then nothing else is set), or <see langword="null"/> to run the endpoint.</summary>
        public CachedResponse? Hit;

        /// <summary>When <see cref="Hit"/> was found fresh.</summary>
        public DateTimeOffset Now;

        /// <summary>An entry within its stale window, served if the endpoint fails.</summary>
        public CachedResponse? Stale;

        /// <summary>Whether the caller holds the lock and must release it (<see cref="CompleteAsync"/>).</summary>
        public bool Holding;

        /// <summary>The caller's lock owner token.</summary>
        public Guid Owner;
    }
}

/// <summary>
/// Lock owner tokens: 8 random bytes drawn once per process and a counter, so tokens are unique across replicas (with
/// overwhelming probability) and cost no random draw, string nor allocation per request.
/// </summary>
internal static class OwnerTokens
{
    private static readonly long ProcessPart = BitConverter.ToInt64(System.Security.Cryptography.RandomNumberGenerator.GetBytes(8));
    private static long s_counter;

    public static Guid Next()
    {
        Span<byte> bytes = stackalloc byte[16];
        System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(bytes, ProcessPart);
        System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(bytes[8..], Interlocked.Increment(ref s_counter));
        return new Guid(bytes);
    }
}
