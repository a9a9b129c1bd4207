namespace AiEdge.Middleware.Caching;

/// <summary>What <see cref="IPredictionCacheStore.GetOrAcquireAsync"/> found: the stored entry, or whether the lock was taken.</summary>
/// <param name="Entry">The stored bytes, or <see langword="null"/> when there were none (or they could not be read).</param>
/// <param name="Acquired">Whether the caller now holds the lock; never <see langword="true"/> together with an <paramref name="Entry"/>.</param>
public readonly record struct PredictionCacheLookup(byte[]? Entry, bool Acquired);
