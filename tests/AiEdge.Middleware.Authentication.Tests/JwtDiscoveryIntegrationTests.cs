using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using AiEdge.Middleware.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.Tokens;
using static AiEdge.Middleware.Authentication.Tests.AuthTestHost;

namespace AiEdge.Middleware.Authentication.Tests;

/// <summary>AiEdge JWT with <c>AiEdge:Authentication:Jwt:Authority</c>: discovery, JWKS rotation, app events, attacks.</summary>
public sealed class JwtDiscoveryIntegrationTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private FakeIdentityProvider _idp = null!;

    public async Task InitializeAsync() => _idp = await FakeIdentityProvider.StartAsync();

    public async Task DisposeAsync() => await _idp.DisposeAsync();

    private Task<TestApp> StartAsync(Action<IAiEdgeBuilder>? edge = null) => TestApp.StartAsync(
        builder => builder.Services.AddAiEdgeCore(e =>
        {
            e.AddSecurityHeaders().AddEdgeAuthentication();
            edge?.Invoke(e);
        }),
        static app =>
        {
            app.UseAiEdge();
            app.MapGet("/predict", WebApiTestHost.Caller).RequireScopes("predict");
        },
        new Dictionary<string, string?>
        {
            ["AiEdge:Authentication:Jwt:Authority"] = _idp.Issuer,
            ["AiEdge:Authentication:Jwt:RequireHttpsMetadata"] = "false",
            ["AiEdge:Authentication:Jwt:ValidAudiences:0"] = TestKeys.Audience,
            ["AiEdge:Authentication:Jwt:RefreshInterval"] = "00:00:01",
        });

    private string Token(string? audience = null) => _idp.Token(audience ?? TestKeys.Audience, new Dictionary<string, object> { ["scope"] = "predict", ["plan"] = "pro" });

    [Fact]
    public async Task TokenOfTheAuthority_IsAcceptedWithItsIssuerAndSubject()
    {
        await using var app = await StartAsync();

        using var response = await app.Client.SendAsync(Get("/predict", bearer: Token())).WaitAsync(Timeout);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(AiEdgeCallerIds.Jwt(_idp.Issuer, "alice"), body.GetProperty("id").GetString());
        Assert.Equal("pro", body.GetProperty("plan").GetString());
        Assert.Equal(EdgeAuthenticationDefaults.JwtBearerScheme, body.GetProperty("scheme").GetString());
    }

    [Fact]
    public async Task RotatedKey_IsAcceptedAfterTheJwksIsFetchedAgain()
    {
        await using var app = await StartAsync();
        var before = Token();
        using (var first = await app.Client.SendAsync(Get("/predict", bearer: before)).WaitAsync(Timeout))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        }

        var fetches = _idp.JwksFetches;
        _idp.Rotate();
        var after = Token();

        // A token naming an unknown key asks for a refresh (at most once per RefreshInterval, 1 s here); the fetch
        // runs in the background, so the new key is polled for, not waited for by the clock.
        var accepted = false;
        for (var attempt = 0; attempt < 100 && !accepted; attempt++)
        {
            using var response = await app.Client.SendAsync(Get("/predict", bearer: after)).WaitAsync(Timeout);
            accepted = response.StatusCode == HttpStatusCode.OK;
            if (!accepted)
            {
                await ProblemAssert.IsProblemAsync(response, HttpStatusCode.Unauthorized);
                await Task.Delay(100);
            }
        }

        // (A token of the previous key stays valid for IdentityModel's last-known-good lifetime: not asserted here.)
        Assert.True(accepted, "A token signed by the rotated key was never accepted.");
        Assert.True(_idp.JwksFetches > fetches);
    }

    [Fact]
    public async Task JwtBearerEvents_SetByTheApp_Run()
    {
        var validated = 0;
        await using var app = await StartAsync(edge => edge.ConfigureEdgeJwtBearer(options => options.Events.OnTokenValidated = _ =>
        {
            Interlocked.Increment(ref validated);
            return Task.CompletedTask;
        }));

        using var response = await app.Client.SendAsync(Get("/predict", bearer: Token())).WaitAsync(Timeout);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(1, validated);
    }

    public static TheoryData<string> Attacks => ["none", "hs-with-public-key", "embedded-jwk", "wrong-audience", "expired"];

    [Theory]
    [MemberData(nameof(Attacks))]
    public async Task Attack_IsRefusedWith401Problem(string attack)
    {
        await using var app = await StartAsync();
        var token = await AttackTokenAsync(attack);

        using var response = await app.Client.SendAsync(Get("/predict", bearer: token)).WaitAsync(Timeout);

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.Unauthorized);
        SecurityHeadersAssert.HasApiPreset(response);
    }

    private Task<string> AttackTokenAsync(string attack)
    {
        var now = DateTimeOffset.UtcNow;
        var payload = new Dictionary<string, object>
        {
            ["sub"] = "attacker",
            ["iss"] = _idp.Issuer,
            ["aud"] = TestKeys.Audience,
            ["nbf"] = now.AddMinutes(-1).ToUnixTimeSeconds(),
            ["exp"] = now.AddHours(1).ToUnixTimeSeconds(),
            ["scope"] = "predict",
        };
        var publicKey = _idp.PublicKey;
        using var attacker = RSA.Create(2048);
        var attackerKey = attacker.ExportParameters(false);
        return Task.FromResult(attack switch
        {
            "none" => TestKeys.Handmade(new { alg = "none", typ = "JWT", kid = "key-1" }, payload),
            "hs-with-public-key" => TestKeys.Handmade(
                new { alg = "HS256", typ = "JWT", kid = "key-1" },
                payload,
                input => HMACSHA256.HashData(publicKey.Modulus!, input)),
            "embedded-jwk" => TestKeys.Handmade(
                new { alg = "RS256", typ = "JWT", jwk = new { kty = "RSA", n = Base64UrlEncoder.Encode(attackerKey.Modulus), e = Base64UrlEncoder.Encode(attackerKey.Exponent) } },
                payload,
                input => attacker.SignData(input, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)),
            "wrong-audience" => Token("someone-else"),
            _ => _idp.Token(TestKeys.Audience, new Dictionary<string, object> { ["scope"] = "predict" }, expires: now.UtcDateTime.AddMinutes(-10)),
        });
    }
}
