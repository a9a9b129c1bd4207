using AiEdge.Middleware.Caching;

namespace AiEdge.Middleware.Conformance;

/// <summary>
/// What <see cref="IdempotencyStoreConformance"/> needs to know about the <see cref="IIdempotencyStore"/> it checks:
/// how to make one, how time passes for it, how long to wait for it, and which optional capabilities it has.
/// </summary>
public sealed class IdempotencyStoreConformanceOptions
{
    /// <summary>
    /// Gets the factory of the store under test. Each check calls it once and disposes what it returns (when it is
    /// <see cref="IAsyncDisposable"/> or <see cref="IDisposable"/>). The checks use fresh random keys, so the stores
    /// may share their backend; a store holding no keys (for a shared backend, a fresh key prefix) is best.
    /// </summary>
    public required Func<IIdempotencyStore> CreateStore { get; init; }

    /// <summary>
    /// Gets how time passes for the stores <see cref="CreateStore"/> makes, when the test controls their clock (e.g.
    /// <c>FakeTimeProvider.Advance</c> for a store built on a <see cref="TimeProvider"/>); the argument is how much
    /// time passes. When set, the lease and retention checks give one-minute durations and advance the clock past
    /// them, so they take no real time. When <see langword="null"/> (a store on its own clock, such as a Redis
    /// server's), they give <see cref="ShortDuration"/> and poll the store until it ends, for at most
    /// <see cref="Timeout"/>.
    /// </summary>
    /// <value>Defaults to <see langword="null"/>.</value>
    public Func<TimeSpan, ValueTask>? AdvanceTime { get; init; }

    /// <summary>Gets the lease and retention the expiry checks give a store on its own clock.</summary>
    /// <value>Defaults to 200 milliseconds.</value>
    public TimeSpan ShortDuration { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>
    /// Gets how long, in real time, a check waits for something the contract says will happen (for a store on its own
    /// clock, a short lease or retention ending, polled) before it fails.
    /// </summary>
    /// <value>Defaults to 10 seconds.</value>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Gets, for a store with a size bound, the factory of a store whose bound leaves room for exactly one running
    /// claim of the kit's keys (<see cref="IdempotencyStoreConformance.KeyLength"/> characters, a
    /// <see cref="IdempotencyStoreConformance.FingerprintLength"/>-byte fingerprint and a
    /// <see cref="IdempotencyStoreConformance.TokenLength"/>-character token). When set, a check proves a full store
    /// answers <see cref="IdempotencyClaimStatus.Full"/> instead of evicting a running claim; when
    /// <see langword="null"/> (an unbounded store, or one that bounds by other means) that check is not yielded.
    /// </summary>
    /// <value>Defaults to <see langword="null"/>.</value>
    public Func<IIdempotencyStore>? CreateBoundedStore { get; init; }

    /// <summary>Gets how many claims of one key the concurrency check starts at once.</summary>
    /// <value>Defaults to 64.</value>
    public int Concurrency { get; init; } = 64;
}
