using System.Security.Cryptography;
using System.Text;

namespace AiEdge.Middleware.Authentication;

/// <summary>Creates API keys and the hashes configuration stores instead of them.</summary>
public static class ApiKeyHasher
{
    /// <summary>
    /// Computes the value to put in <c>AiEdge:Authentication:ApiKeys:Keys:{name}:Hash</c>: the SHA-256 of the key's
    /// UTF-8 bytes as 64 lowercase hexadecimal characters (the same as <c>printf %s "$KEY" | sha256sum</c>).
    /// </summary>
    /// <param name="apiKey">The API key as callers send it.</param>
    /// <returns>The hash, 64 lowercase hexadecimal characters.</returns>
    public static string ComputeHash(string apiKey)
    {
        ArgumentException.ThrowIfNullOrEmpty(apiKey);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(apiKey)));
    }

    /// <summary>Generates a new random API key: 32 random bytes, base64url encoded, after an optional prefix.</summary>
    /// <param name="prefix">A prefix that makes the key recognisable in secret scanners, e.g. <c>sk_live_</c>.</param>
    /// <returns>The new key; give it to the caller and store only <see cref="ComputeHash(string)"/> of it.</returns>
    public static string GenerateKey(string? prefix = null)
    {
        Span<byte> bytes = stackalloc byte[32];
        RandomNumberGenerator.Fill(bytes);
        return (prefix ?? string.Empty) + Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }
}
