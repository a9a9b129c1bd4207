namespace AiEdge.Middleware.Authentication;

/// <summary>A key that may have signed a JWT: a shared secret (HMAC) or a PEM public key (RSA or EC). Set exactly one.</summary>
public sealed class JwtSigningKey
{
    /// <summary>Gets or sets the key id matched against a token's <c>kid</c> header.</summary>
    /// <value>Optional; a token without <c>kid</c> is tried against every key of its algorithm's family.
    /// Configuration key: <c>AiEdge:Authentication:Jwt:SigningKeys:{index}:KeyId</c>.</value>
    public string? KeyId { get; set; }

    /// <summary>Gets or sets a shared secret for HS256/HS384/HS512, base64 (or base64url) encoded, of at least 32 bytes.</summary>
    /// <value>Configuration key: <c>AiEdge:Authentication:Jwt:SigningKeys:{index}:Secret</c>.</value>
    public string? Secret { get; set; }

    /// <summary>Gets or sets an RSA or EC public key in PEM (<c>-----BEGIN PUBLIC KEY-----</c>).</summary>
    /// <value>Configuration key: <c>AiEdge:Authentication:Jwt:SigningKeys:{index}:PublicKeyPem</c>.</value>
    public string? PublicKeyPem { get; set; }
}
