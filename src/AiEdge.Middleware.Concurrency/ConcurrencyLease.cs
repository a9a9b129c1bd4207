namespace AiEdge.Middleware.Concurrency;

/// <summary>The answer of <see cref="IConcurrencyStore.TryAcquireAsync"/>: a slot taken under a lease id, or a refusal.</summary>
public readonly struct ConcurrencyLease : IEquatable<ConcurrencyLease>
{
    private ConcurrencyLease(bool acquired, long id, int inFlight)
    {
        Acquired = acquired;
        Id = id;
        InFlight = inFlight;
    }

    /// <summary>Gets whether a slot was taken.</summary>
    public bool Acquired { get; }

    /// <summary>Gets the lease's id, unique among the key's live leases; meaningful when <see cref="Acquired"/>.</summary>
    public long Id { get; }

    /// <summary>Gets the live leases of the key after the call (the taken one included).</summary>
    public int InFlight { get; }

    /// <summary>A slot taken under <paramref name="id"/>.</summary>
    /// <param name="id">The lease id.</param>
    /// <param name="inFlight">The live leases of the key, this one included.</param>
    /// <returns>The lease.</returns>
    public static ConcurrencyLease Granted(long id, int inFlight) => new(true, id, inFlight);

    /// <summary>A refusal: the key already holds its limit of live leases.</summary>
    /// <param name="inFlight">The live leases of the key.</param>
    /// <returns>The refusal.</returns>
    public static ConcurrencyLease Refused(int inFlight) => new(false, 0, inFlight);

    /// <inheritdoc />
    public bool Equals(ConcurrencyLease other) => Acquired == other.Acquired && Id == other.Id && InFlight == other.InFlight;

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is ConcurrencyLease other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Acquired, Id, InFlight);

    /// <summary>Compares two answers for equality.</summary>
    public static bool operator ==(ConcurrencyLease left, ConcurrencyLease right) => left.Equals(right);

    /// <summary>Compares two answers for inequality.</summary>
    public static bool operator !=(ConcurrencyLease left, ConcurrencyLease right) => !left.Equals(right);
}
