using System.Security.Cryptography;

namespace AiEdge.Middleware.Caching.Internal;

/// <summary>
/// SHA-256 of a span through one hash object per thread. The one-shot <see cref="SHA256.HashData(ReadOnlySpan{byte}, Span{byte})"/>
/// creates and frees a native digest context on every call; a kept <see cref="IncrementalHash"/> only resets its
/// context, which about halves the cost of hashing a request key (a few hundred bytes). Callers never await between
/// appending and finishing, so a thread's object is never shared.
/// </summary>
internal static class Sha256PerThread
{
    [ThreadStatic]
    private static IncrementalHash? t_hash;

    /// <summary>Writes the SHA-256 of <paramref name="data"/> to <paramref name="destination"/> (32 bytes).</summary>
    public static void Hash(ReadOnlySpan<byte> data, Span<byte> destination)
    {
        var hash = t_hash ??= IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        try
        {
            hash.AppendData(data);
            hash.GetHashAndReset(destination);
        }
        catch
        {
            // A failure part-way would leave appended bytes behind for the next key: drop the object.
            t_hash = null;
            hash.Dispose();
            throw;
        }
    }
}
