using AiEdge.Middleware.Caching;

namespace AiEdge.Middleware.Conformance;

/// <summary>
/// A prediction cache store handed to <see cref="PredictionCacheStoreConformance"/>, with the way its time moves.
/// </summary>
/// <remarks>
/// A store that reads time from a <see cref="TimeProvider"/> you control (a fake clock in tests) passes
/// <c>advanceTime</c>, which moves that clock: the checks then never wait for real time and use long durations
/// (a minute of time to live, half a minute of lease). A store with its own clock (a server's, such as Redis's)
/// passes <see langword="null"/>: the checks then use short real durations
/// (<see cref="PredictionCacheStoreConformance.OwnClockDuration"/>) and poll until the expected change happens, failing
/// when it has not happened <see cref="PredictionCacheStoreConformance.CompletionBound"/> later.
/// </remarks>
public sealed class PredictionCacheStoreSubject
{
    private readonly Func<TimeSpan, Task>? _advanceTime;

    /// <summary>Creates a subject.</summary>
    /// <param name="store">The store under test; a new one (or one over fresh state) per check.</param>
    /// <param name="advanceTime">Moves the store's clock forward; <see langword="null"/> when the store keeps its own clock.</param>
    public PredictionCacheStoreSubject(IPredictionCacheStore store, Func<TimeSpan, Task>? advanceTime)
    {
        ArgumentNullException.ThrowIfNull(store);
        Store = store;
        _advanceTime = advanceTime;
    }

    /// <summary>Gets the store under test.</summary>
    public IPredictionCacheStore Store { get; }

    /// <summary>Gets whether the checks control the store's clock.</summary>
    public bool ControlsTime => _advanceTime is not null;

    /// <summary>Moves the store's clock forward by <paramref name="by"/>; does nothing for a store with its own clock.</summary>
    /// <param name="by">How far.</param>
    /// <returns>A task that completes when the clock moved.</returns>
    public Task AdvanceTimeAsync(TimeSpan by) => _advanceTime is null ? Task.CompletedTask : _advanceTime(by);
}
