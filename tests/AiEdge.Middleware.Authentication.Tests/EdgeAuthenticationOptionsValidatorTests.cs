using AiEdge.Middleware.Testing;
using Microsoft.Extensions.Options;

namespace AiEdge.Middleware.Authentication.Tests;

public sealed class EdgeAuthenticationOptionsValidatorTests
{
    private const string Prefix = "AiEdge:Authentication:";

    public static TheoryData<Dictionary<string, string?>, string> BadConfigurations()
    {
        var hash = ApiKeyHasher.ComputeHash("sk_test_key_123456");
        return new TheoryData<Dictionary<string, string?>, string>
        {
            { new() { [Prefix + "ApiKeys:Keys:alpha:Hash"] = "abc" }, "AiEdge:Authentication:ApiKeys:Keys:alpha:Hash must be the SHA-256 of the key as 64 hexadecimal characters" },
            { new() { [Prefix + "ApiKeys:Keys:alpha:Hash"] = new string('z', 64) }, "AiEdge:Authentication:ApiKeys:Keys:alpha:Hash must be the SHA-256" },
            { new() { [Prefix + "ApiKeys:Keys:alpha:Plan"] = "pro" }, "AiEdge:Authentication:ApiKeys:Keys:alpha:Hash must be" },
            { new() { [Prefix + "ApiKeys:Keys:alpha:Hash"] = hash, [Prefix + "ApiKeys:Keys:beta:Hash"] = hash.ToUpperInvariant() }, "AiEdge:Authentication:ApiKeys:Keys:beta:Hash is the same as the hash of key 'alpha'" },
            { new() { [Prefix + "ApiKeys:Keys:alpha:Hash"] = hash, [Prefix + "ApiKeys:Keys:alpha:Scopes:0"] = "two words" }, "AiEdge:Authentication:ApiKeys:Keys:alpha:Scopes:0 must be a non-empty scope" },
            { new() { [Prefix + "ApiKeys:Keys:alpha:Hash"] = hash, [Prefix + "ApiKeys:Keys:alpha:Plan"] = "gold plan" }, "AiEdge:Authentication:ApiKeys:Keys:alpha:Plan must be" },
            { new() { [Prefix + "ApiKeys:HeaderName"] = "X API Key" }, "AiEdge:Authentication:ApiKeys:HeaderName must be a valid HTTP header name" },
            { new() { [Prefix + "ApiKeys:HeaderName"] = "authorization" }, "AiEdge:Authentication:ApiKeys:HeaderName must not be \"Authorization\"" },
            { new() { [Prefix + "ApiKeys:MaxKeyLength"] = "5" }, "AiEdge:Authentication:ApiKeys:MaxKeyLength must be from 16 to 1024" },
            { new() { [Prefix + "RequireAuthenticatedCaller"] = "true" }, "AiEdge:Authentication:RequireAuthenticatedCaller is true but no caller could authenticate" },
            { Jwt(secret: "c2hvcnQ="), "AiEdge:Authentication:Jwt:SigningKeys:0 Secret must decode to at least 32 bytes" },
            { Jwt(secret: "not base64 !!"), "AiEdge:Authentication:Jwt:SigningKeys:0 Secret must be base64" },
            { Jwt(pem: "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----"), "AiEdge:Authentication:Jwt:SigningKeys:0 PublicKeyPem must be an RSA or EC public key" },
            { Jwt(pem: TestKeys.Rsa.ExportPkcs8PrivateKeyPem()), "AiEdge:Authentication:Jwt:SigningKeys:0 PublicKeyPem must be a public key" },
            { Jwt(secret: TestKeys.SecretBase64, pem: TestKeys.RsaPublicPem), "AiEdge:Authentication:Jwt:SigningKeys:0 must set exactly one of Secret" },
            { Jwt(issuer: null), "AiEdge:Authentication:Jwt:ValidIssuers must name at least one issuer" },
            { Jwt(audience: null), "AiEdge:Authentication:Jwt:ValidAudiences must name at least one audience" },
            { Jwt(extra: ("Algorithms:0", "none")), "AiEdge:Authentication:Jwt:Algorithms:0 must not be \"none\"" },
            { Jwt(extra: ("Algorithms:0", "HS128")), "AiEdge:Authentication:Jwt:Algorithms:0 \"HS128\" is not a supported algorithm" },
            { Jwt(extra: ("ClockSkew", "01:00:00")), "AiEdge:Authentication:Jwt:ClockSkew must be from 00:00:00 to 00:05:00" },
            { Jwt(extra: ("MaxTokenLength", "10")), "AiEdge:Authentication:Jwt:MaxTokenLength must be from 256 to 65536" },
            { Jwt(extra: ("PlanClaim", " ")), "AiEdge:Authentication:Jwt:PlanClaim must name a claim" },
            { new() { [Prefix + "Jwt:ValidIssuers:0"] = "https://issuer.example" }, "AiEdge:Authentication:Jwt:SigningKeys must hold at least one key" },
        };
    }

    private static Dictionary<string, string?> Jwt(string? secret = null, string? pem = null, string? issuer = "https://issuer.example", string? audience = "api", (string Key, string Value)? extra = null)
    {
        var settings = new Dictionary<string, string?>();
        if (secret is null && pem is null)
        {
            secret = TestKeys.SecretBase64;
        }

        settings[Prefix + "Jwt:SigningKeys:0:Secret"] = secret;
        settings[Prefix + "Jwt:SigningKeys:0:PublicKeyPem"] = pem;
        if (issuer is not null)
        {
            settings[Prefix + "Jwt:ValidIssuers:0"] = issuer;
        }

        if (audience is not null)
        {
            settings[Prefix + "Jwt:ValidAudiences:0"] = audience;
        }

        if (extra is { } pair)
        {
            settings[Prefix + "Jwt:" + pair.Key] = pair.Value;
        }

        return settings;
    }

    [Theory]
    [MemberData(nameof(BadConfigurations))]
    public async Task BadConfiguration_FailsAtStartupNamingTheKey(Dictionary<string, string?> configuration, string expected)
    {
        await StartupAssert.FailsAsync(() => AuthTestHost.StartAsync(configuration), expected);
    }

    [Fact]
    public async Task EmptyConfiguration_StartsAndServesAnonymously()
    {
        await using var app = await AuthTestHost.StartAsync(new Dictionary<string, string?>());

        using var response = await app.Client.GetAsync("/open").WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task EmptyConfiguration_ApiKeyHeaderIsIgnored_RequirementsStill401()
    {
        await using var app = await AuthTestHost.StartAsync(new Dictionary<string, string?>());

        using var open = await app.Client.SendAsync(AuthTestHost.Get("/open", apiKey: "anything")).WaitAsync(TimeSpan.FromSeconds(30));
        using var scoped = await app.Client.SendAsync(AuthTestHost.Get("/predict", apiKey: "anything")).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(System.Net.HttpStatusCode.OK, open.StatusCode);
        await ProblemAssert.IsProblemAsync(scoped, System.Net.HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task ValidConfigurationOfEveryKind_Starts()
    {
        await using var app = await AuthTestHost.StartAsync(TestKeys.Configuration());

        Assert.NotNull(app.Services.GetService(typeof(IOptions<EdgeAuthenticationOptions>)));
    }
}
