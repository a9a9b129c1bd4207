using System.Security.Cryptography;
using Microsoft.IdentityModel.Tokens;

namespace AiEdge.Middleware.Authentication.Internal;

/// <summary>Turns configured signing keys into <see cref="SecurityKey"/>s, and knows which algorithms fit which key.</summary>
internal static class JwtKeyLoader
{
    public const int MinimumSecretBytes = 32;

    public static readonly string[] HmacAlgorithms = [SecurityAlgorithms.HmacSha256, SecurityAlgorithms.HmacSha384, SecurityAlgorithms.HmacSha512];
    public static readonly string[] RsaAlgorithms = [SecurityAlgorithms.RsaSha256, SecurityAlgorithms.RsaSha384, SecurityAlgorithms.RsaSha512, SecurityAlgorithms.RsaSsaPssSha256, SecurityAlgorithms.RsaSsaPssSha384, SecurityAlgorithms.RsaSsaPssSha512];
    public static readonly string[] EcdsaAlgorithms = [SecurityAlgorithms.EcdsaSha256, SecurityAlgorithms.EcdsaSha384, SecurityAlgorithms.EcdsaSha512];

    /// <summary>Loads a key; on failure <paramref name="error"/> completes "...:{key} " with what is wrong.</summary>
    public static bool TryLoad(JwtSigningKey key, out SecurityKey? securityKey, out string? error)
    {
        securityKey = null;
        var hasSecret = !string.IsNullOrWhiteSpace(key.Secret);
        var hasPem = !string.IsNullOrWhiteSpace(key.PublicKeyPem);
        if (hasSecret == hasPem)
        {
            error = "must set exactly one of Secret (base64 shared secret) and PublicKeyPem (RSA or EC public key)";
            return false;
        }

        if (hasSecret)
        {
            var bytes = DecodeBase64(key.Secret!.Trim());
            if (bytes is null)
            {
                error = "Secret must be base64 or base64url encoded";
                return false;
            }

            if (bytes.Length < MinimumSecretBytes)
            {
                error = $"Secret must decode to at least {MinimumSecretBytes} bytes (256 bits) for HS256; it has {bytes.Length}";
                return false;
            }

            securityKey = new SymmetricSecurityKey(bytes) { KeyId = key.KeyId };
            error = null;
            return true;
        }

        var pem = key.PublicKeyPem!;
        if (pem.Contains("PRIVATE KEY", StringComparison.Ordinal))
        {
            error = "PublicKeyPem must be a public key (-----BEGIN PUBLIC KEY-----), never a private key";
            return false;
        }

        var rsa = RSA.Create();
        try
        {
            rsa.ImportFromPem(pem);
            securityKey = new RsaSecurityKey(rsa) { KeyId = key.KeyId };
            error = null;
            return true;
        }
        catch (Exception e) when (e is ArgumentException or CryptographicException)
        {
            rsa.Dispose();
        }

        var ecdsa = ECDsa.Create();
        try
        {
            ecdsa.ImportFromPem(pem);
            securityKey = new ECDsaSecurityKey(ecdsa) { KeyId = key.KeyId };
            error = null;
            return true;
        }
        catch (Exception e) when (e is ArgumentException or CryptographicException)
        {
            ecdsa.Dispose();
            error = "PublicKeyPem must be an RSA or EC public key in PEM (-----BEGIN PUBLIC KEY-----)";
            return false;
        }
    }

    /// <summary>Gets whether <paramref name="algorithm"/> belongs to the family of <paramref name="key"/> (no HS256 with an RSA key).</summary>
    public static bool Fits(string algorithm, SecurityKey key) => Array.IndexOf(AlgorithmsOf(key), algorithm) >= 0;

    /// <summary>The algorithms of a key's family: configured keys, and the JSON web keys of a JWKS by their <c>kty</c>.</summary>
    public static string[] AlgorithmsOf(SecurityKey key) => key switch
    {
        SymmetricSecurityKey => HmacAlgorithms,
        RsaSecurityKey => RsaAlgorithms,
        ECDsaSecurityKey => EcdsaAlgorithms,
        X509SecurityKey { PublicKey: RSA } => RsaAlgorithms,
        X509SecurityKey { PublicKey: ECDsa } => EcdsaAlgorithms,
        JsonWebKey { Kty: JsonWebAlgorithmsKeyTypes.Octet } => HmacAlgorithms,
        JsonWebKey { Kty: JsonWebAlgorithmsKeyTypes.RSA } => RsaAlgorithms,
        JsonWebKey { Kty: JsonWebAlgorithmsKeyTypes.EllipticCurve } => EcdsaAlgorithms,
        _ => [],
    };

    public static void Dispose(SecurityKey? key)
    {
        switch (key)
        {
            case RsaSecurityKey { Rsa: { } rsa }:
                rsa.Dispose();
                break;
            case ECDsaSecurityKey { ECDsa: { } ecdsa }:
                ecdsa.Dispose();
                break;
        }
    }

    public static bool IsKnown(string algorithm)
        => Array.IndexOf(HmacAlgorithms, algorithm) >= 0 || Array.IndexOf(RsaAlgorithms, algorithm) >= 0 || Array.IndexOf(EcdsaAlgorithms, algorithm) >= 0;

    private static byte[]? DecodeBase64(string value)
    {
        var normalized = value.Replace('-', '+').Replace('_', '/');
        switch (normalized.Length % 4)
        {
            case 2: normalized += "=="; break;
            case 3: normalized += "="; break;
        }

        var buffer = new byte[normalized.Length];
        return Convert.TryFromBase64String(normalized, buffer, out var written) ? buffer[..written] : null;
    }
}
