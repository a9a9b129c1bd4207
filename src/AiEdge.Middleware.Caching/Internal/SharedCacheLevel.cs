using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace AiEdge.Middleware.Caching.Internal;

/// <summary>
/// The prediction cache's store, chosen once from the registrations: the app's <see cref="IPredictionCacheStore"/>;
/// else, when <see cref="PredictionCacheOptions.UseDistributedCache"/> is on and the app registered an
/// <see cref="IDistributedCache"/>, a store over it with a lock in process; else the in-process store. Its entries
/// are used (the second level is on) when the option is on and the store is one of the first two: the in-process
/// store only holds the lock, since the first level already keeps every entry in process.
/// </summary>
internal sealed class SharedCacheLevel
{
    public SharedCacheLevel(IOptions<PredictionCacheOptions> options, IServiceProvider services, TimeProvider time)
    {
        var useEntries = options.Value.UseDistributedCache;
        var registered = services.GetService<IPredictionCacheStore>();
        var distributed = registered is null && useEntries ? services.GetService<IDistributedCache>() : null;
        Store = registered
            ?? (distributed is not null ? new DistributedCachePredictionCacheStore(distributed, time) : new InMemoryPredictionCacheStore(time));
        HoldsEntries = useEntries && (registered is not null || distributed is not null);
    }

    /// <summary>Gets the store: the coalescing lock always, the entries when <see cref="HoldsEntries"/>.</summary>
    public IPredictionCacheStore Store { get; }

    /// <summary>Gets whether the store's entries are the second level.</summary>
    public bool HoldsEntries { get; }
}
