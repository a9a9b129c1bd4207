using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace AiEdge.Middleware.Testing;

/// <summary>
/// An identity provider on a loopback Kestrel port: an OpenID Connect discovery document and a JWKS holding its
/// current RSA signing key, which <see cref="Rotate"/> replaces. Tokens it issues are valid at the real time, as
/// the app's own JwtBearer checks them against the system clock.
/// </summary>
public sealed class FakeIdentityProvider : IAsyncDisposable
{
    private readonly TestApp _app;
    private volatile SigningKey _key = SigningKey.Create(1);
    private int _jwksFetches;

    private FakeIdentityProvider(TestApp app) => _app = app;

    /// <summary>The issuer (<c>iss</c>), also the authority whose discovery document the apps read.</summary>
    public string Issuer => _app.BaseAddress.GetLeftPart(UriPartial.Authority);

    /// <summary>How often the JWKS was fetched.</summary>
    public int JwksFetches => Volatile.Read(ref _jwksFetches);

    /// <summary>Starts the provider on a free loopback port.</summary>
    /// <returns>The running provider.</returns>
    public static async Task<FakeIdentityProvider> StartAsync()
    {
        FakeIdentityProvider? provider = null;
        var app = await TestApp.StartKestrelAsync(
            static _ => { },
            app =>
            {
                app.MapGet("/.well-known/openid-configuration", (HttpContext context) => Results.Json(new Dictionary<string, object>
                {
                    ["issuer"] = provider!.Issuer,
                    ["jwks_uri"] = provider.Issuer + "/jwks",
                    ["id_token_signing_alg_values_supported"] = new[] { "RS256" },
                }));
                app.MapGet("/jwks", () =>
                {
                    Interlocked.Increment(ref provider!._jwksFetches);
                    return Results.Json(new { keys = new[] { provider._key.Jwk } });
                });
            });
        provider = new FakeIdentityProvider(app);
        return provider;
    }

    /// <summary>Replaces the signing key: the JWKS then holds only the new one.</summary>
    public void Rotate() => _key = SigningKey.Create(_key.Generation + 1);

    /// <summary>A token signed by the current key, for <paramref name="audience"/>, valid for an hour from now (or until <paramref name="expires"/>).</summary>
    /// <param name="audience">The token's <c>aud</c>.</param>
    /// <param name="claims">Further claims of the payload.</param>
    /// <param name="subject">The token's <c>sub</c>.</param>
    /// <param name="expires">When the token expires.</param>
    /// <returns>The signed compact token.</returns>
    public string Token(string audience, IDictionary<string, object>? claims = null, string subject = "alice", DateTime? expires = null)
    {
        var payload = new Dictionary<string, object> { ["sub"] = subject };
        if (claims is not null)
        {
            foreach (var (name, value) in claims)
            {
                payload[name] = value;
            }
        }

        var end = expires ?? DateTime.UtcNow.AddHours(1);
        var now = end.AddHours(-1);
        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = Issuer,
            Audience = audience,
            Claims = payload,
            IssuedAt = now.AddMinutes(-1),
            NotBefore = now.AddMinutes(-1),
            Expires = end,
            SigningCredentials = new SigningCredentials(_key.SecurityKey, SecurityAlgorithms.RsaSha256),
        });
    }

    /// <summary>The current key's public JWK, for attacks that sign with the public key.</summary>
    public RSAParameters PublicKey => _key.Rsa.ExportParameters(false);

    /// <summary>Stops the provider.</summary>
    /// <returns>A task that completes when the host has stopped.</returns>
    public ValueTask DisposeAsync() => _app.DisposeAsync();

    private sealed class SigningKey(int generation, RSA rsa)
    {
        public int Generation { get; } = generation;

        public RSA Rsa { get; } = rsa;

        public RsaSecurityKey SecurityKey { get; } = new(rsa) { KeyId = "key-" + generation };

        public object Jwk { get; } = CreateJwk(generation, rsa);

        public static SigningKey Create(int generation) => new(generation, RSA.Create(2048));

        private static Dictionary<string, string> CreateJwk(int generation, RSA rsa)
        {
            var parameters = rsa.ExportParameters(false);
            return new Dictionary<string, string>
            {
                ["kty"] = "RSA",
                ["use"] = "sig",
                ["alg"] = "RS256",
                ["kid"] = "key-" + generation,
                ["n"] = Base64UrlEncoder.Encode(parameters.Modulus),
                ["e"] = Base64UrlEncoder.Encode(parameters.Exponent),
            };
        }
    }
}
