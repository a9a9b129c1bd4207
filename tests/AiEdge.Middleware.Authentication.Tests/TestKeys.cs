using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace AiEdge.Middleware.Authentication.Tests;

/// <summary>Keys and token builders shared by the tests: one RSA, one EC and one HMAC key, made once.</summary>
internal static class TestKeys
{
    public const string Issuer = "https://issuer.example";
    public const string Audience = "model-api";
    public const string FreeKey = "sk_test_free_0123456789abcdef";
    public const string ProKey = "sk_test_pro_0123456789abcdef";
    public const string AdminKey = "sk_test_admin_0123456789abcdef";

    public static readonly DateTimeOffset Now = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public static readonly RSA Rsa = RSA.Create(2048);
    public static readonly RSA OtherRsa = RSA.Create(2048);
    public static readonly ECDsa Ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    public static readonly byte[] Secret = RandomNumberGenerator.GetBytes(32);
    public static readonly byte[] OtherSecret = RandomNumberGenerator.GetBytes(32);

    public static string RsaPublicPem => Rsa.ExportSubjectPublicKeyInfoPem();

    public static string EcPublicPem => Ec.ExportSubjectPublicKeyInfoPem();

    public static string SecretBase64 => Convert.ToBase64String(Secret);

    /// <summary>Configuration with three API keys (free, pro, admin) and JWT keys of every family.</summary>
    public static Dictionary<string, string?> Configuration(bool apiKeys = true, bool jwt = true)
    {
        var settings = new Dictionary<string, string?>();
        if (apiKeys)
        {
            settings["AiEdge:Authentication:ApiKeys:Keys:free-app:Hash"] = ApiKeyHasher.ComputeHash(FreeKey);
            settings["AiEdge:Authentication:ApiKeys:Keys:free-app:Plan"] = "free";
            settings["AiEdge:Authentication:ApiKeys:Keys:pro-app:Hash"] = ApiKeyHasher.ComputeHash(ProKey);
            settings["AiEdge:Authentication:ApiKeys:Keys:pro-app:Plan"] = "pro";
            settings["AiEdge:Authentication:ApiKeys:Keys:pro-app:Scopes:0"] = "predict";
            settings["AiEdge:Authentication:ApiKeys:Keys:pro-app:Scopes:1"] = "generate";
            settings["AiEdge:Authentication:ApiKeys:Keys:admin:Hash"] = ApiKeyHasher.ComputeHash(AdminKey);
            settings["AiEdge:Authentication:ApiKeys:Keys:admin:Scopes:0"] = "predict";
            settings["AiEdge:Authentication:ApiKeys:Keys:admin:Scopes:1"] = "admin";
        }

        if (jwt)
        {
            settings["AiEdge:Authentication:Jwt:ValidIssuers:0"] = Issuer;
            settings["AiEdge:Authentication:Jwt:ValidAudiences:0"] = Audience;
            settings["AiEdge:Authentication:Jwt:SigningKeys:0:Secret"] = SecretBase64;
            settings["AiEdge:Authentication:Jwt:SigningKeys:1:PublicKeyPem"] = RsaPublicPem;
            settings["AiEdge:Authentication:Jwt:SigningKeys:2:PublicKeyPem"] = EcPublicPem;
            settings["AiEdge:Authentication:Jwt:ClockSkew"] = "00:01:00";
        }

        return settings;
    }

    public static SigningCredentials RsaCredentials => new(new RsaSecurityKey(Rsa), SecurityAlgorithms.RsaSha256);

    public static SigningCredentials EcCredentials => new(new ECDsaSecurityKey(Ec), SecurityAlgorithms.EcdsaSha256);

    public static SigningCredentials HmacCredentials => new(new SymmetricSecurityKey(Secret), SecurityAlgorithms.HmacSha256);

    /// <summary>Creates a signed token; by default valid at <see cref="Now"/> for one hour.</summary>
    public static string Token(
        SigningCredentials? credentials = null,
        string? issuer = Issuer,
        string? audience = Audience,
        string subject = "user-42",
        DateTimeOffset? notBefore = null,
        DateTimeOffset? expires = null,
        IDictionary<string, object>? claims = null,
        bool withExpiry = true)
    {
        var payload = new Dictionary<string, object> { ["sub"] = subject };
        if (claims is not null)
        {
            foreach (var (key, value) in claims)
            {
                payload[key] = value;
            }
        }

        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Audience = audience,
            Claims = payload,
            IssuedAt = (notBefore ?? Now).UtcDateTime,
            NotBefore = (notBefore ?? Now).UtcDateTime,
            Expires = withExpiry ? (expires ?? Now.AddHours(1)).UtcDateTime : null,
            SigningCredentials = credentials ?? RsaCredentials,
        };
        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(descriptor);
    }

    /// <summary>Builds a compact JWS by hand (header and payload as given), signed with <paramref name="sign"/> or unsigned.</summary>
    public static string Handmade(object header, object payload, Func<byte[], byte[]>? sign = null)
    {
        var head = Base64UrlEncoder.Encode(JsonSerializer.SerializeToUtf8Bytes(header));
        var body = Base64UrlEncoder.Encode(JsonSerializer.SerializeToUtf8Bytes(payload));
        var input = Encoding.ASCII.GetBytes(head + "." + body);
        return head + "." + body + "." + (sign is null ? string.Empty : Base64UrlEncoder.Encode(sign(input)));
    }

    /// <summary>A payload that would be valid at <see cref="Now"/>.</summary>
    public static object ValidPayload => new
    {
        sub = "attacker",
        iss = Issuer,
        aud = Audience,
        nbf = Now.ToUnixTimeSeconds(),
        exp = Now.AddHours(1).ToUnixTimeSeconds(),
        scope = "predict admin",
        plan = "enterprise",
    };
}
