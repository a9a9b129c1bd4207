namespace AiEdge.Middleware.Resilience;

/// <summary>
/// Where the cool-downs of a backend's destinations are shared by every replica of the edge. A destination that
/// answers 429 or 503 with <c>Retry-After</c> is left alone for that long: the replica that saw the answer takes it
/// out of rotation at once and records the end of the cool-down here, and every replica reads the backend's
/// cool-downs from here before it chooses a destination, so none of them sends to it before the time is up.
/// </summary>
/// <remarks>
/// The reverse proxy (<c>AddReverseProxy().AddAiEdge()</c>) registers an in-memory store (one replica) unless one is
/// registered; <c>AddRedis()</c> of <c>AiEdge.Middleware.Redis</c> registers one in Redis. Backends are named by the
/// caller (a YARP cluster id), destinations within them too (a destination id); times are the writer's
/// <see cref="TimeProvider"/> UTC time, so replicas' clocks are assumed to agree within a second. Implementations are
/// thread-safe and never fail because their storage is unreachable: a write is then lost and a read answers nothing,
/// and each replica keeps the cool-downs it saw itself (fail-open), so an outage of the store never stops traffic.
/// </remarks>
public interface IBackendCooldownStore
{
    /// <summary>
    /// Records that <paramref name="destination"/> of <paramref name="backend"/> is not to be called before
    /// <paramref name="until"/>. A time earlier than the one already recorded does not shorten the cool-down.
    /// </summary>
    /// <param name="backend">The backend (a YARP cluster id).</param>
    /// <param name="destination">The destination within the backend (a YARP destination id).</param>
    /// <param name="until">The end of the cool-down, in UTC.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>A task that completes when the cool-down is recorded, or given up because the store is unreachable.</returns>
    ValueTask CoolDownAsync(string backend, string destination, DateTimeOffset until, CancellationToken cancellationToken = default);

    /// <summary>
    /// Gets the recorded cool-downs of the destinations of <paramref name="backend"/>: the end of each, by destination.
    /// Cool-downs that already ended may be included; the caller compares with its clock.
    /// </summary>
    /// <param name="backend">The backend (a YARP cluster id).</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The cool-downs by destination; empty when none is recorded or the store is unreachable.</returns>
    ValueTask<IReadOnlyDictionary<string, DateTimeOffset>> GetCooldownsAsync(string backend, CancellationToken cancellationToken = default);
}
