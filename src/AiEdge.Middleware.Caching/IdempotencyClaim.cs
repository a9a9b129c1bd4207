namespace AiEdge.Middleware.Caching;

/// <summary>The outcome of <see cref="IIdempotencyStore.TryClaimAsync"/>: the key's state and what it holds.</summary>
public readonly struct IdempotencyClaim
{
    private IdempotencyClaim(IdempotencyClaimStatus status, ReadOnlyMemory<byte> fingerprint, IdempotencyRecord? record)
    {
        Status = status;
        Fingerprint = fingerprint;
        Record = record;
    }

    /// <summary>Gets the outcome of a call that took the key.</summary>
    public static IdempotencyClaim Claimed => new(IdempotencyClaimStatus.Claimed, default, null);

    /// <summary>Gets the outcome of a call that found a bounded store full of running claims (nothing was claimed).</summary>
    public static IdempotencyClaim Full => new(IdempotencyClaimStatus.Full, default, null);

    /// <summary>Gets what the key holds.</summary>
    public IdempotencyClaimStatus Status { get; }

    /// <summary>
    /// Gets, for <see cref="IdempotencyClaimStatus.InProgress"/>, the fingerprint the running claimant gave, and for
    /// <see cref="IdempotencyClaimStatus.Completed"/> the record's; otherwise empty.
    /// </summary>
    public ReadOnlyMemory<byte> Fingerprint { get; }

    /// <summary>Gets, for <see cref="IdempotencyClaimStatus.Completed"/>, the retained record; otherwise <see langword="null"/>.</summary>
    public IdempotencyRecord? Record { get; }

    /// <summary>The outcome of a call that found the key held by a running request.</summary>
    /// <param name="fingerprint">The fingerprint the running claimant gave.</param>
    /// <returns>An <see cref="IdempotencyClaimStatus.InProgress"/> outcome.</returns>
    public static IdempotencyClaim InProgress(ReadOnlyMemory<byte> fingerprint) => new(IdempotencyClaimStatus.InProgress, fingerprint, null);

    /// <summary>The outcome of a call that found a retained response.</summary>
    /// <param name="record">The retained record.</param>
    /// <returns>A <see cref="IdempotencyClaimStatus.Completed"/> outcome.</returns>
    public static IdempotencyClaim Completed(IdempotencyRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        return new(IdempotencyClaimStatus.Completed, record.Fingerprint, record);
    }

    /// <inheritdoc />
    public override string ToString() => Status.ToString();
}
