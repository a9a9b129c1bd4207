using AiEdge.Middleware.Internal;
namespace AiEdge.Middleware.Caching.Internal;

/// <summary>
/// Where Idempotency-Key records live. The default keeps them in process memory
/// (<see cref="InMemoryIdempotencyStore"/>); a shared implementation (Redis) replaces it by registering its own
/// singleton <see cref="IIdempotencyStore"/> before or after <c>AddIdempotency()</c> (the default is added with
/// <c>TryAdd</c>, so any earlier registration wins; a later one should use <c>Replace</c>).
/// </summary>
/// <remarks>
/// <para>Keys are opaque ASCII strings (64 lowercase hex digits, already scoped per client and endpoint); an
/// implementation may prefix them but must not interpret them.</para>
/// <para>A key is in one of three states: absent, <em>claimed</em> (a first request is running; the claim carries
/// the claimant's token and the payload fingerprint, and expires after its lease so a crashed replica cannot
/// block the key forever), or <em>completed</em> (the record with the response, kept for the retention window).</para>
/// <para>Every method must be atomic with respect to the others on the same key across every replica sharing the
/// store: two concurrent <see cref="TryClaimAsync"/> calls for an absent key must give exactly one
/// <see cref="IdempotencyClaimStatus.Claimed"/>. Implementations must not throw for ordinary outcomes; an
/// unavailable backing store may throw, and the middleware then answers without idempotency protection
/// (it logs and lets the request run).</para>
/// </remarks>
internal interface IIdempotencyStore
{
    /// <summary>
    /// Claims <paramref name="key"/> for the request identified by <paramref name="token"/> when the key is absent
    /// (or its claim expired, or its record's retention ended). Otherwise reports what is there without changing it.
    /// </summary>
    /// <param name="key">The scoped key.</param>
    /// <param name="fingerprint">The request's payload fingerprint (32 bytes), kept with the claim.</param>
    /// <param name="token">A unique token of the claimant, required to complete or release the claim.</param>
    /// <param name="lease">How long the claim holds when it is neither completed nor released.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>
    /// <see cref="IdempotencyClaimStatus.Claimed"/> when this call took the key; <see cref="IdempotencyClaimStatus.InProgress"/>
    /// with the claimant's fingerprint when another request holds it; <see cref="IdempotencyClaimStatus.Completed"/>
    /// with the record when a response is retained; <see cref="IdempotencyClaimStatus.Full"/> when a bounded store
    /// cannot take the key without evicting a running claim (it never does that).
    /// </returns>
    ValueTask<IdempotencyClaim> TryClaimAsync(string key, byte[] fingerprint, string token, TimeSpan lease, CancellationToken cancellationToken);

    /// <summary>
    /// Replaces the claim held by <paramref name="token"/> with <paramref name="record"/>, retained for
    /// <paramref name="retention"/>. Does nothing (returns <see langword="false"/>) when the claim is no longer
    /// held by <paramref name="token"/> (it expired and someone else claimed the key).
    /// </summary>
    ValueTask<bool> CompleteAsync(string key, string token, IdempotencyRecord record, TimeSpan retention, CancellationToken cancellationToken);

    /// <summary>
    /// Drops the claim held by <paramref name="token"/> without a record (the first request failed without an
    /// answer or was abandoned), so a retry runs afresh. Does nothing when the claim is not held by the token.
    /// </summary>
    ValueTask ReleaseAsync(string key, string token, CancellationToken cancellationToken);

    /// <summary>Gets the completed record of <paramref name="key"/>, or <see langword="null"/> when there is none (absent, claimed or expired).</summary>
    ValueTask<IdempotencyRecord?> GetAsync(string key, CancellationToken cancellationToken);
}

/// <summary>The state of an Idempotency-Key found by <see cref="IIdempotencyStore.TryClaimAsync"/>.</summary>
internal enum IdempotencyClaimStatus
{
    /// <summary>The caller now holds the key: run the request, then complete or release.</summary>
    Claimed,

    /// <summary>Another request holds the key and is still running.</summary>
    InProgress,

    /// <summary>A response is retained for the key.</summary>
    Completed,

    /// <summary>
    /// The key is absent but the store is at its size bound with nothing it may evict (only running claims): nothing
    /// was claimed, and the request must not run (answer 503) or a retry could run it a second time.
    /// </summary>
    Full,
}

/// <summary>The outcome of <see cref="IIdempotencyStore.TryClaimAsync"/>.</summary>
/// <param name="Status">What the key holds.</param>
/// <param name="Fingerprint">For <see cref="IdempotencyClaimStatus.InProgress"/>, the running request's fingerprint.</param>
/// <param name="Record">For <see cref="IdempotencyClaimStatus.Completed"/>, the retained record.</param>
internal readonly record struct IdempotencyClaim(IdempotencyClaimStatus Status, byte[]? Fingerprint, IdempotencyRecord? Record)
{
    public static IdempotencyClaim Claimed { get; } = new(IdempotencyClaimStatus.Claimed, null, null);

    public static IdempotencyClaim Full { get; } = new(IdempotencyClaimStatus.Full, null, null);
}

/// <summary>A completed Idempotency-Key: the payload fingerprint of the first request and its response.</summary>
/// <param name="Fingerprint">SHA-256 of the first request's method, path and body (32 bytes).</param>
/// <param name="Response">The first request's response (any status).</param>
internal sealed record IdempotencyRecord(byte[] Fingerprint, CachedResponse Response)
{
    /// <summary>Serializes the record (fingerprint then <see cref="CachedResponse.Serialize"/>) for shared stores.</summary>
    public byte[] Serialize()
    {
        var response = Response.Serialize();
        var buffer = new byte[1 + Fingerprint.Length + response.Length];
        buffer[0] = (byte)Fingerprint.Length;
        Fingerprint.CopyTo(buffer, 1);
        response.CopyTo(buffer, 1 + Fingerprint.Length);
        return buffer;
    }

    /// <summary>Reads a record written by <see cref="Serialize"/>; <see langword="false"/> for anything else.</summary>
    public static bool TryDeserialize(ReadOnlySpan<byte> data, out IdempotencyRecord? record)
    {
        record = null;
        if (data.Length < 1 || data.Length < 1 + data[0] || !CachedResponse.TryDeserialize(data[(1 + data[0])..], out var response))
        {
            return false;
        }

        record = new IdempotencyRecord(data.Slice(1, data[0]).ToArray(), response!);
        return true;
    }
}
