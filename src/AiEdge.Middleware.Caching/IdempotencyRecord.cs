using System.Diagnostics.CodeAnalysis;
using AiEdge.Middleware.Caching.Internal;
using Microsoft.Extensions.Primitives;

namespace AiEdge.Middleware.Caching;

/// <summary>
/// A completed Idempotency-Key: the first request's payload fingerprint and its response, which the middleware
/// replays to retries. The response is opaque to a store: the in-memory store keeps the object, a shared store keeps
/// the bytes of <see cref="Serialize"/> and reads them back with <see cref="TryDeserialize"/>. Immutable.
/// </summary>
public sealed class IdempotencyRecord
{
    private const int MaxFingerprintLength = byte.MaxValue;

    internal IdempotencyRecord(byte[] fingerprint, CachedResponse response)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(fingerprint.Length, MaxFingerprintLength, nameof(fingerprint));
        FingerprintBytes = fingerprint;
        Response = response;
    }

    /// <summary>Gets the first request's payload fingerprint (the middleware's: SHA-256 of method, path and body, 32 bytes).</summary>
    public ReadOnlyMemory<byte> Fingerprint => FingerprintBytes;

    /// <summary>The fingerprint array, never modified.</summary>
    internal byte[] FingerprintBytes { get; }

    /// <summary>The first request's response (any status).</summary>
    internal CachedResponse Response { get; }

    /// <summary>
    /// Builds a record of a response with <paramref name="statusCode"/>, <paramref name="headers"/> and
    /// <paramref name="body"/>: what tests and tools need to exercise a store (the middleware records its own from the
    /// response it relayed).
    /// </summary>
    /// <param name="fingerprint">The payload fingerprint, at most 255 bytes.</param>
    /// <param name="statusCode">The response status code.</param>
    /// <param name="headers">The response headers to replay.</param>
    /// <param name="body">The response body.</param>
    /// <returns>The record.</returns>
    public static IdempotencyRecord Create(ReadOnlySpan<byte> fingerprint, int statusCode, IReadOnlyList<KeyValuePair<string, StringValues>> headers, ReadOnlySpan<byte> body)
    {
        ArgumentNullException.ThrowIfNull(headers);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(fingerprint.Length, MaxFingerprintLength, nameof(fingerprint));
        ArgumentOutOfRangeException.ThrowIfLessThan(statusCode, 100);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(statusCode, 999);
        var copy = new KeyValuePair<string, StringValues>[headers.Count];
        for (var i = 0; i < copy.Length; i++)
        {
            copy[i] = headers[i];
        }

        var response = new CachedResponse(statusCode, copy, body.ToArray(), null, DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch);
        return new IdempotencyRecord(fingerprint.ToArray(), response);
    }

    /// <summary>
    /// Serializes the record into a self-contained byte array, for stores that keep bytes. The format is versioned:
    /// <see cref="TryDeserialize"/> of a later package version reads it, or refuses it (the retry then runs afresh).
    /// </summary>
    /// <returns>A new array; the caller owns it.</returns>
    public byte[] Serialize()
    {
        var response = Response.Serialize();
        var buffer = new byte[1 + FingerprintBytes.Length + response.Length];
        buffer[0] = (byte)FingerprintBytes.Length;
        FingerprintBytes.CopyTo(buffer, 1);
        response.CopyTo(buffer, 1 + FingerprintBytes.Length);
        return buffer;
    }

    /// <summary>Reads a record written by <see cref="Serialize"/>.</summary>
    /// <param name="data">The bytes <see cref="Serialize"/> wrote.</param>
    /// <param name="record">The record, when <paramref name="data"/> holds one.</param>
    /// <returns><see langword="false"/> for anything but the bytes of a record (never throws for malformed data).</returns>
    public static bool TryDeserialize(ReadOnlySpan<byte> data, [NotNullWhen(true)] out IdempotencyRecord? record)
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
