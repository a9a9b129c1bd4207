using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AiEdge.Middleware.Testing;
using Microsoft.Extensions.Time.Testing;
using Microsoft.IdentityModel.Tokens;
using static AiEdge.Middleware.Authentication.Tests.AuthTestHost;

namespace AiEdge.Middleware.Authentication.Tests;

public sealed class JwtAuthenticationIntegrationTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    public static TheoryData<string> Families => ["HS256", "RS256", "ES256"];

    private static SigningCredentials Credentials(string family) => family switch
    {
        "HS256" => TestKeys.HmacCredentials,
        "RS256" => TestKeys.RsaCredentials,
        _ => TestKeys.EcCredentials,
    };

    [Theory]
    [MemberData(nameof(Families))]
    public async Task ValidToken_EveryKeyFamily_AuthenticatesSubjectPlanAndScopes(string family)
    {
        await using var app = await StartAsync();
        var token = TestKeys.Token(Credentials(family), claims: new Dictionary<string, object> { ["scope"] = "predict generate", ["plan"] = "pro" });

        using var response = await app.Client.SendAsync(Get("/predict-and-generate", bearer: token)).WaitAsync(Timeout);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("jwt:22:" + TestKeys.Issuer + ":user-42", body.GetProperty("id").GetString());
        Assert.Equal("pro", body.GetProperty("plan").GetString());
        Assert.Equal(EdgeAuthenticationDefaults.JwtBearerScheme, body.GetProperty("scheme").GetString());
        Assert.Equal(new[] { "predict", "generate" }, body.GetProperty("scopes").EnumerateArray().Select(static s => s.GetString()!).ToArray());
    }

    [Fact]
    public async Task ScpArrayClaim_IsSplitIntoScopes()
    {
        await using var app = await StartAsync();
        var token = TestKeys.Token(claims: new Dictionary<string, object> { ["scp"] = new[] { "predict", "generate" } });

        using var response = await app.Client.SendAsync(Get("/predict-and-generate", bearer: token)).WaitAsync(Timeout);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task CustomPlanClaim_IsRead()
    {
        var configuration = TestKeys.Configuration();
        configuration["AiEdge:Authentication:Jwt:PlanClaim"] = "tier";
        await using var app = await StartAsync(configuration);
        var token = TestKeys.Token(claims: new Dictionary<string, object> { ["tier"] = "enterprise", ["plan"] = "free" });

        using var response = await app.Client.SendAsync(Get("/open", bearer: token)).WaitAsync(Timeout);

        Assert.Equal("enterprise", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("plan").GetString());
    }

    [Fact]
    public async Task TokenWithoutScope_Is403OnScopedEndpoint()
    {
        await using var app = await StartAsync();

        using var response = await app.Client.SendAsync(Get("/predict", bearer: TestKeys.Token())).WaitAsync(Timeout);

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.Forbidden);
        Assert.Equal("insufficient_scope", problem.GetProperty("error").GetString());
    }

    // exp = Now + 1h, skew 1 min: valid up to exp + 60 s.
    [Theory]
    [InlineData(0, HttpStatusCode.OK)]
    [InlineData(3600 + 59, HttpStatusCode.OK)]
    [InlineData(3600 + 61, HttpStatusCode.Unauthorized)]
    [InlineData(86400, HttpStatusCode.Unauthorized)]
    public async Task Expiry_HonoursClockSkewOnTheInjectedClock(int secondsLater, HttpStatusCode expected)
    {
        var clock = new FakeTimeProvider(TestKeys.Now);
        await using var app = await StartAsync(time: clock);
        var token = TestKeys.Token();

        clock.Advance(TimeSpan.FromSeconds(secondsLater));
        using var response = await app.Client.SendAsync(Get("/authenticated", bearer: token)).WaitAsync(Timeout);

        Assert.Equal(expected, response.StatusCode);
        if (expected == HttpStatusCode.Unauthorized)
        {
            var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.Unauthorized);
            Assert.Equal("The token is expired.", problem.GetProperty("detail").GetString());
            Assert.Equal("Bearer error=\"invalid_token\", error_description=\"The token is expired.\"", Challenge(response));
        }
    }

    [Fact]
    public async Task NotBefore_RefusedUntilTheClockReachesItMinusSkew()
    {
        var clock = new FakeTimeProvider(TestKeys.Now);
        await using var app = await StartAsync(time: clock);
        var token = TestKeys.Token(notBefore: TestKeys.Now.AddMinutes(10), expires: TestKeys.Now.AddHours(1));

        using var early = await app.Client.SendAsync(Get("/authenticated", bearer: token)).WaitAsync(Timeout);
        clock.Advance(TimeSpan.FromMinutes(8.9));
        using var stillEarly = await app.Client.SendAsync(Get("/authenticated", bearer: token)).WaitAsync(Timeout);
        clock.Advance(TimeSpan.FromMinutes(0.2));
        using var withinSkew = await app.Client.SendAsync(Get("/authenticated", bearer: token)).WaitAsync(Timeout);

        var problem = await ProblemAssert.IsProblemAsync(early, HttpStatusCode.Unauthorized);
        Assert.Equal("The token is not valid yet.", problem.GetProperty("detail").GetString());
        Assert.Equal(HttpStatusCode.Unauthorized, stillEarly.StatusCode);
        Assert.Equal(HttpStatusCode.OK, withinSkew.StatusCode);
    }

    [Fact]
    public async Task ZeroClockSkew_ExpiresExactlyAtExp()
    {
        var clock = new FakeTimeProvider(TestKeys.Now);
        var configuration = TestKeys.Configuration();
        configuration["AiEdge:Authentication:Jwt:ClockSkew"] = "00:00:00";
        await using var app = await StartAsync(configuration, time: clock);
        var token = TestKeys.Token(expires: TestKeys.Now.AddSeconds(30));

        using var before = await app.Client.SendAsync(Get("/authenticated", bearer: token)).WaitAsync(Timeout);
        clock.Advance(TimeSpan.FromSeconds(31));
        using var after = await app.Client.SendAsync(Get("/authenticated", bearer: token)).WaitAsync(Timeout);

        Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, after.StatusCode);
    }

    [Fact]
    public async Task AlgorithmAllowList_RefusesAlgorithmsNotListed()
    {
        var configuration = TestKeys.Configuration();
        configuration["AiEdge:Authentication:Jwt:Algorithms:0"] = "RS256";
        await using var app = await StartAsync(configuration);

        using var rs = await app.Client.SendAsync(Get("/authenticated", bearer: TestKeys.Token(TestKeys.RsaCredentials))).WaitAsync(Timeout);
        using var hs = await app.Client.SendAsync(Get("/authenticated", bearer: TestKeys.Token(TestKeys.HmacCredentials))).WaitAsync(Timeout);
        using var es = await app.Client.SendAsync(Get("/authenticated", bearer: TestKeys.Token(TestKeys.EcCredentials))).WaitAsync(Timeout);

        Assert.Equal(HttpStatusCode.OK, rs.StatusCode);
        await ProblemAssert.IsProblemAsync(hs, HttpStatusCode.Unauthorized);
        await ProblemAssert.IsProblemAsync(es, HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task KeyId_MatchingKidStillNeedsTheRightSignature()
    {
        var configuration = TestKeys.Configuration(apiKeys: false, jwt: true);
        configuration["AiEdge:Authentication:Jwt:SigningKeys:1:KeyId"] = "rsa-2026";
        await using var app = await StartAsync(configuration);
        var withKid = new SigningCredentials(new RsaSecurityKey(TestKeys.Rsa) { KeyId = "rsa-2026" }, SecurityAlgorithms.RsaSha256);
        var otherKeySameKid = new SigningCredentials(new RsaSecurityKey(TestKeys.OtherRsa) { KeyId = "rsa-2026" }, SecurityAlgorithms.RsaSha256);

        using var matching = await app.Client.SendAsync(Get("/authenticated", bearer: TestKeys.Token(withKid))).WaitAsync(Timeout);
        using var forged = await app.Client.SendAsync(Get("/authenticated", bearer: TestKeys.Token(otherKeySameKid))).WaitAsync(Timeout);

        Assert.Equal(HttpStatusCode.OK, matching.StatusCode);
        await ProblemAssert.IsProblemAsync(forged, HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task JwtOnly_OpaqueBearerIsAMalformedToken()
    {
        await using var app = await StartAsync(TestKeys.Configuration(apiKeys: false, jwt: true));

        using var response = await app.Client.SendAsync(Get("/authenticated", bearer: TestKeys.ProKey)).WaitAsync(Timeout);

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.Unauthorized);
        Assert.Equal("invalid_token", problem.GetProperty("error").GetString());
    }

    [Fact]
    public async Task Kestrel_ValidAndInvalidTokensOverRealSockets()
    {
        await using var app = await StartAsync(kestrel: true);
        var valid = TestKeys.Token(claims: new Dictionary<string, object> { ["scope"] = "predict" });

        using var ok = await app.Client.SendAsync(Get("/predict", bearer: valid)).WaitAsync(Timeout);
        using var refused = await app.Client.SendAsync(Get("/predict", bearer: valid[..^4] + "AAAA")).WaitAsync(Timeout);

        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        await ProblemAssert.IsProblemAsync(refused, HttpStatusCode.Unauthorized);
    }
}

public sealed class JwtKeyConfusionTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task RsaOnlyWithHs256Allowed_HmacOverThePublicKeyIsStillRefused()
    {
        var configuration = new Dictionary<string, string?>
        {
            ["AiEdge:Authentication:Jwt:ValidIssuers:0"] = TestKeys.Issuer,
            ["AiEdge:Authentication:Jwt:ValidAudiences:0"] = TestKeys.Audience,
            ["AiEdge:Authentication:Jwt:SigningKeys:0:PublicKeyPem"] = TestKeys.RsaPublicPem,
            ["AiEdge:Authentication:Jwt:Algorithms:0"] = "RS256",
            ["AiEdge:Authentication:Jwt:Algorithms:1"] = "HS256",
        };
        await using var app = await AuthTestHost.StartAsync(configuration);
        var pem = System.Text.Encoding.ASCII.GetBytes(TestKeys.RsaPublicPem);
        var der = TestKeys.Rsa.ExportSubjectPublicKeyInfo();
        var pkcs1 = TestKeys.Rsa.ExportRSAPublicKey();

        foreach (var secret in new[] { pem, der, pkcs1 })
        {
            var forged = TestKeys.Handmade(new { alg = "HS256", typ = "JWT" }, TestKeys.ValidPayload, input => System.Security.Cryptography.HMACSHA256.HashData(secret, input));
            using var response = await app.Client.SendAsync(AuthTestHost.Get("/authenticated", bearer: forged)).WaitAsync(Timeout);
            var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.Unauthorized);
            Assert.Equal("invalid_token", problem.GetProperty("error").GetString());
        }

        using var genuine = await app.Client.SendAsync(AuthTestHost.Get("/authenticated", bearer: TestKeys.Token(TestKeys.RsaCredentials))).WaitAsync(Timeout);
        Assert.Equal(HttpStatusCode.OK, genuine.StatusCode);
    }
}
