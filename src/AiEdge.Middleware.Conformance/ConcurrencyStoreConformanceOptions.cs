using AiEdge.Middleware.Concurrency;

namespace AiEdge.Middleware.Conformance;

/// <summary>
/// What <see cref="ConcurrencyStoreConformance"/> needs to know about the <see cref="IConcurrencyStore"/> it checks:
/// how to make one, how time passes for it, and how long to wait for it.
/// </summary>
public sealed class ConcurrencyStoreConformanceOptions
{
    /// <summary>
    /// Gets the factory of the store under test. Each check calls it once and disposes what it returns (when it is
    /// <see cref="IAsyncDisposable"/> or <see cref="IDisposable"/>). The checks use fresh random keys, so the stores
    /// may share their backend (one Redis server).
    /// </summary>
    public required Func<IConcurrencyStore> CreateStore { get; init; }

    /// <summary>
    /// Gets how time passes for the stores <see cref="CreateStore"/> makes, when the test controls their clock (e.g.
    /// <c>FakeTimeProvider.Advance</c>); the argument is how much time passes. When set, the lease checks use leases of
    /// a minute and advance the clock past them, taking no real time. When <see langword="null"/> (a store on its own
    /// clock, such as a Redis server's), they give leases of a few <see cref="ShortDuration"/>s and poll the store
    /// until they end, for at most <see cref="Timeout"/>.
    /// </summary>
    /// <value>Defaults to <see langword="null"/>.</value>
    public Func<TimeSpan, ValueTask>? AdvanceTime { get; init; }

    /// <summary>Gets the unit of the lease durations the checks give a store on its own clock.</summary>
    /// <value>Defaults to 250 milliseconds.</value>
    public TimeSpan ShortDuration { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Gets how long, in real time, a check waits for something the contract says will happen before it fails.</summary>
    /// <value>Defaults to 10 seconds.</value>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Gets how many acquisitions of one key the concurrency check starts at once.</summary>
    /// <value>Defaults to 64.</value>
    public int Concurrency { get; init; } = 64;
}
