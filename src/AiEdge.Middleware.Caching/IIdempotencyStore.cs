namespace AiEdge.Middleware.Caching;

/// <summary>
/// Where Idempotency-Key claims and records live: the contract between the Idempotency-Key middleware and a store.
/// The default is <see cref="InMemoryIdempotencyStore"/>, one per process; a store shared by every replica (the
/// Redis package's, or one of your own) replaces it by registering its own singleton <see cref="IIdempotencyStore"/>
/// before <c>AddIdempotency()</c> (which adds the default with <c>TryAdd</c>) or with <c>Replace</c> after it.
/// The checks of <c>AiEdge.Middleware.Conformance</c>'s <c>IdempotencyStoreConformance</c> prove an implementation
/// keeps this contract.
/// </summary>
/// <remarks>
/// <para><b>Keys.</b> A key is an opaque string of printable ASCII (0x20 to 0x7E), at most 256 characters (the
/// middleware's keys are 64 lowercase hex digits, already scoped per client, endpoint and key). A store may prefix
/// it (a namespace in a shared backend) but must not interpret, truncate or fold it: two keys that differ in any
/// character are two keys.</para>
/// <para><b>States.</b> A key is in one of three states. <em>Absent</em>. <em>Claimed</em>: a first request is
/// running; the claim carries the claimant's token and the request's payload fingerprint, and ends by itself when
/// its lease ends, so a crashed replica cannot block the key forever. <em>Completed</em>: the
/// <see cref="IdempotencyRecord"/> of the first response, kept until its retention ends, then absent again. Leases
/// and retentions are durations; the store measures them on its own clock (a shared store on the backend's clock).</para>
/// <para><b>Atomicity.</b> Every method is atomic with respect to the others on the same key, across every replica
/// sharing the store: of concurrent <see cref="TryClaimAsync"/> calls for an absent key exactly one gets
/// <see cref="IdempotencyClaimStatus.Claimed"/>, and the others see the claim.</para>
/// <para><b>Tokens.</b> Only the token that claimed a key may complete or release it. A call with any other token
/// (a claimant whose lease ended and whose key was claimed again) changes nothing.</para>
/// <para><b>Bounds.</b> A store with a size bound may evict completed records before their retention ends to make
/// room (a retry then runs again as a new request), but never a running claim: when only running claims would have
/// to go, <see cref="TryClaimAsync"/> answers <see cref="IdempotencyClaimStatus.Full"/> and claims nothing.</para>
/// <para><b>Records.</b> A store keeps the record as given (the in-memory store keeps the object) or as the bytes of
/// <see cref="IdempotencyRecord.Serialize"/>, read back with <see cref="IdempotencyRecord.TryDeserialize"/>; what it
/// returns serializes to the same bytes as what it was given.</para>
/// <para><b>Failure.</b> Ordinary outcomes are results, never exceptions. A store whose backend is unavailable may
/// throw: the middleware logs it and lets the request run without Idempotency-Key protection. It may instead answer
/// from a local fallback (the Redis store's fail-open mode). It must not answer <see cref="IdempotencyClaimStatus.Claimed"/>
/// for a key it could not claim.</para>
/// <para><b>Cancellation.</b> A store may honour the <see cref="CancellationToken"/>: a cancelled call either
/// completes or throws <see cref="OperationCanceledException"/>; its effect is then unknown (it may have taken place),
/// and the key is in one of the three states. The middleware cancels only claims (when the client goes away) and
/// completes and releases with <see cref="CancellationToken.None"/>.</para>
/// </remarks>
public interface IIdempotencyStore
{
    /// <summary>
    /// Claims <paramref name="key"/> for the request identified by <paramref name="token"/> when the key is absent
    /// (never claimed, or its lease or retention ended). Otherwise reports what is there without changing it.
    /// </summary>
    /// <param name="key">The key: opaque printable ASCII, at most 256 characters.</param>
    /// <param name="fingerprint">The request's payload fingerprint (the middleware's is 32 bytes), kept with the claim and reported to other claimants. The store may keep the array: the caller does not change it afterwards.</param>
    /// <param name="token">The claimant's unique token, required to complete or release the claim.</param>
    /// <param name="lease">How long the claim holds when it is neither completed nor released.</param>
    /// <param name="cancellationToken">Cancels the call (see the interface remarks).</param>
    /// <returns>
    /// <see cref="IdempotencyClaim.Claimed"/> when this call took the key; <see cref="IdempotencyClaim.InProgress"/>
    /// with the claimant's fingerprint when another request holds it; <see cref="IdempotencyClaim.Completed"/> with
    /// the record when a response is retained; <see cref="IdempotencyClaim.Full"/> when a bounded store cannot take
    /// the key without evicting a running claim.
    /// </returns>
    ValueTask<IdempotencyClaim> TryClaimAsync(string key, byte[] fingerprint, string token, TimeSpan lease, CancellationToken cancellationToken);

    /// <summary>
    /// Replaces the claim held by <paramref name="token"/> with <paramref name="record"/>, retained for
    /// <paramref name="retention"/>.
    /// </summary>
    /// <param name="key">The key.</param>
    /// <param name="token">The token that claimed the key.</param>
    /// <param name="record">The first request's fingerprint and response.</param>
    /// <param name="retention">How long the record is kept.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>
    /// <see langword="true"/> when the record is kept; <see langword="false"/>, changing nothing, when the key is not
    /// claimed by <paramref name="token"/> (its lease ended, or it was released or completed). A bounded store may
    /// also answer <see langword="false"/> when the record does not fit, and then drops the claim.
    /// </returns>
    ValueTask<bool> CompleteAsync(string key, string token, IdempotencyRecord record, TimeSpan retention, CancellationToken cancellationToken);

    /// <summary>
    /// Drops the claim held by <paramref name="token"/> without a record (the first request failed without an answer
    /// or was abandoned), so a retry runs afresh. Does nothing when the key is not claimed by <paramref name="token"/>.
    /// </summary>
    /// <param name="key">The key.</param>
    /// <param name="token">The token that claimed the key.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the claim is dropped.</returns>
    ValueTask ReleaseAsync(string key, string token, CancellationToken cancellationToken);

    /// <summary>Gets the completed record of <paramref name="key"/>.</summary>
    /// <param name="key">The key.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The record, or <see langword="null"/> when the key is absent, claimed, or its retention ended.</returns>
    ValueTask<IdempotencyRecord?> GetAsync(string key, CancellationToken cancellationToken);
}
