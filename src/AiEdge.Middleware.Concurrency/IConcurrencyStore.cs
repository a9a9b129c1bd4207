namespace AiEdge.Middleware.Concurrency;

/// <summary>
/// Where concurrency tiers count their slots: for each key (a tier, or a tier and a partition), the leases held now.
/// The in-memory default (<see cref="InMemoryConcurrencyStore"/>) counts per replica; a shared store (Redis, a
/// database) makes a tier's limit hold across replicas.
/// </summary>
/// <remarks>
/// <para>The contract (checked by <c>ConcurrencyStoreConformance</c> in <c>AiEdge.Middleware.Conformance</c>):</para>
/// <list type="bullet">
/// <item><see cref="TryAcquireAsync"/> grants a lease only while the key holds fewer than <c>limit</c> live leases,
/// atomically: of concurrent calls on a key with <c>n</c> free slots, exactly <c>n</c> are granted, across every
/// replica that shares the store. The limit is given per call (an adaptive limit changes); a key holding more live
/// leases than a lowered limit grants none until enough are released.</item>
/// <item>A lease is live from its grant until it is released or its lease duration passes without a renewal. Expiry
/// frees the slots of a replica that died holding them; a live replica renews its leases (the middleware does, every
/// third of the lease duration).</item>
/// <item><see cref="RenewAsync"/> extends a live lease and answers <see langword="true"/>; for a lease that expired or
/// was released it changes nothing and answers <see langword="false"/>.</item>
/// <item><see cref="ReleaseAsync"/> ends a live lease; releasing an unknown, expired or already released lease does
/// nothing (a release is idempotent and never frees another lease's slot).</item>
/// <item>Keys are opaque printable strings compared ordinally; lease ids are the store's, unique among a key's
/// live leases.</item>
/// <item>A cancelled call either completes or throws <see cref="OperationCanceledException"/>, leaving a valid state.</item>
/// </list>
/// <para>A Redis store can keep each key as a sorted set of lease ids scored by expiry: one script removes the
/// expired members, compares the count with the limit and adds the new member (a counter gives the id); renewal
/// updates the score only if the member exists; release removes the member. Waiting is not part of the contract: the
/// middleware queues requests per replica and asks the store again when one of its own slots is released.</para>
/// </remarks>
public interface IConcurrencyStore
{
    /// <summary>Takes one of the <paramref name="limit"/> slots of <paramref name="key"/> if one is free.</summary>
    /// <param name="key">The key (tier, or tier and partition).</param>
    /// <param name="limit">The most live leases the key may hold, at least 1.</param>
    /// <param name="leaseDuration">How long the lease lives without renewal.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The lease, or a refusal with the key's live leases.</returns>
    ValueTask<ConcurrencyLease> TryAcquireAsync(string key, int limit, TimeSpan leaseDuration, CancellationToken cancellationToken);

    /// <summary>Extends the live lease <paramref name="leaseId"/> of <paramref name="key"/> to <paramref name="leaseDuration"/> from now.</summary>
    /// <param name="key">The key.</param>
    /// <param name="leaseId">The lease id <see cref="TryAcquireAsync"/> gave.</param>
    /// <param name="leaseDuration">The new lifetime from now.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns><see langword="true"/> when the lease was live and is extended; <see langword="false"/> when it had expired or was released.</returns>
    ValueTask<bool> RenewAsync(string key, long leaseId, TimeSpan leaseDuration, CancellationToken cancellationToken);

    /// <summary>Ends the lease <paramref name="leaseId"/> of <paramref name="key"/>, freeing its slot; does nothing for a lease that is not live.</summary>
    /// <param name="key">The key.</param>
    /// <param name="leaseId">The lease id <see cref="TryAcquireAsync"/> gave.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the slot is free.</returns>
    ValueTask ReleaseAsync(string key, long leaseId, CancellationToken cancellationToken);

    /// <summary>Counts the live leases of <paramref name="key"/>.</summary>
    /// <param name="key">The key.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The live leases.</returns>
    ValueTask<int> CountAsync(string key, CancellationToken cancellationToken);
}
