using AiEdge.Middleware.Caching;

namespace AiEdge.Middleware.Conformance;

/// <summary>
/// What <see cref="PredictionCacheStoreConformance"/> needs to know about the <see cref="IPredictionCacheStore"/> it
/// checks: how to make one, how time passes for it, and how long to wait for it.
/// </summary>
public sealed class PredictionCacheStoreConformanceOptions
{
    /// <summary>
    /// Gets the factory of the store under test. Each check calls it once and disposes what it returns (when it is
    /// <see cref="IAsyncDisposable"/> or <see cref="IDisposable"/>). The checks use fresh random keys, so the stores
    /// may share their backend (one Redis server).
    /// </summary>
    public required Func<IPredictionCacheStore> CreateStore { get; init; }

    /// <summary>
    /// Gets how time passes for the stores <see cref="CreateStore"/> makes, when the test controls their clock (e.g.
    /// <c>FakeTimeProvider.Advance</c> for a store built on a <see cref="TimeProvider"/>); the argument is how much
    /// time passes. When set, the time-to-live, lease and wait checks use long durations (a minute of time to live,
    /// half a minute of lease, ten seconds of wait) and advance the clock past them, so they take no real time. When
    /// <see langword="null"/> (a store on its own clock, such as a Redis server's), they give
    /// <see cref="ShortDuration"/> and poll the store until the change happens, for at most <see cref="Timeout"/>.
    /// </summary>
    /// <value>Defaults to <see langword="null"/>.</value>
    public Func<TimeSpan, ValueTask>? AdvanceTime { get; init; }

    /// <summary>Gets the time to live, lease and wait timeout the checks give a store on its own clock.</summary>
    /// <value>Defaults to 250 milliseconds.</value>
    public TimeSpan ShortDuration { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// Gets how long, in real time, a check waits for something the contract says will happen (an entry or a lease
    /// ending on a store's own clock, a waiter waking, concurrent calls returning) before it fails.
    /// </summary>
    /// <value>Defaults to 10 seconds.</value>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Gets how many get-or-acquire calls on one missing key the concurrency check starts at once.</summary>
    /// <value>Defaults to 32.</value>
    public int Concurrency { get; init; } = 32;
}
