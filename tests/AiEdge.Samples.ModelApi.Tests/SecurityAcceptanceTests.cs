using System.Net;
using System.Text;
using AiEdge.Middleware.Testing;

namespace AiEdge.Samples.ModelApi.Tests;

/// <summary>Security headers, CORS and body limits of the sample, driven from outside through the contract.</summary>
public sealed class SecurityAcceptanceTests
{
    [Fact]
    public async Task EveryKindOfResponse_CarriesTheSecurityHeaders()
    {
        await using var factory = new ModelApiFactory();
        using var client = factory.CreateClient();

        using var ok = await client.PostAsync("/v1/predict", Json("{\"model\":\"m\",\"input\":\"great\"}"));
        using var bad = await client.PostAsync("/v1/predict", Json("{not json"));
        using var missing = await client.GetAsync("/nowhere");
        using var tooLarge = await client.PostAsync("/v1/predict", new ByteArrayContent(new byte[(1024 * 1024) + 1]));
        using var health = await client.GetAsync("/healthz");

        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        await ProblemAssert.IsProblemAsync(bad, HttpStatusCode.BadRequest);
        await ProblemAssert.IsProblemAsync(missing, HttpStatusCode.NotFound);
        await ProblemAssert.IsProblemAsync(tooLarge, HttpStatusCode.RequestEntityTooLarge);
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        foreach (var response in new[] { ok, bad, missing, tooLarge, health })
        {
            SecurityHeadersAssert.HasApiPreset(response);
        }
    }

    [Fact]
    public async Task OnKestrel_NoServerHeader_AndHstsOnlyWhenATrustedProxySaysHttps()
    {
        await using var factory = new ModelApiFactory();
        var baseAddress = factory.StartKestrel();
        using var client = new HttpClient { BaseAddress = baseAddress };

        using var plain = await client.GetAsync("/healthz").WaitAsync(TimeSpan.FromSeconds(30));
        using var request = new HttpRequestMessage(HttpMethod.Get, "/healthz");
        request.Headers.Add("X-Forwarded-Proto", "https");
        using var forwarded = await client.SendAsync(request).WaitAsync(TimeSpan.FromSeconds(30));

        SecurityHeadersAssert.HasApiPreset(plain, https: false);
        SecurityHeadersAssert.HasApiPreset(forwarded, https: true);
    }

    [Fact]
    public async Task Preflight_FromTheConfiguredOrigin_Is204WithCorsHeaders_LookAlikesGetNone()
    {
        await using var factory = new ModelApiFactory();
        using var client = factory.CreateClient();

        using var allowed = await client.SendAsync(Preflight("http://localhost:5173"));
        using var lookAlike = await client.SendAsync(Preflight("http://localhost:5173.evil.net"));
        using var otherPort = await client.SendAsync(Preflight("http://localhost:5174"));

        Assert.Equal(HttpStatusCode.NoContent, allowed.StatusCode);
        Assert.Equal("http://localhost:5173", SecurityHeadersAssert.Single(allowed, "Access-Control-Allow-Origin"));
        Assert.Contains("POST", SecurityHeadersAssert.Single(allowed, "Access-Control-Allow-Methods"));
        Assert.Contains("Origin", allowed.Headers.Vary);
        SecurityHeadersAssert.HasApiPreset(allowed);
        foreach (var refused in new[] { lookAlike, otherPort })
        {
            Assert.Equal(HttpStatusCode.NoContent, refused.StatusCode);
            Assert.Null(SecurityHeadersAssert.Single(refused, "Access-Control-Allow-Origin"));
        }
    }

    [Fact]
    public async Task AllowedOrigins_ComeFromTheContractKey()
    {
        await using var factory = new ModelApiFactory(new Dictionary<string, string?> { ["AiEdge:Cors:AllowedOrigins:0"] = "https://app.example.com" });
        using var client = factory.CreateClient();

        using var configured = await client.SendAsync(Preflight("https://app.example.com"));

        Assert.Equal("https://app.example.com", SecurityHeadersAssert.Single(configured, "Access-Control-Allow-Origin"));
    }

    [Fact]
    public async Task Train_AcceptsBodiesAbovePredictsLimit()
    {
        await using var factory = new ModelApiFactory();
        using var client = factory.CreateClient();
        var large = "{\"data\":\"" + new string('x', 2 * 1024 * 1024) + "\"}";

        using var predict = await client.PostAsync("/v1/predict", Json(large));
        using var train = await client.PostAsync("/v1/train", Json(large));

        await ProblemAssert.IsProblemAsync(predict, HttpStatusCode.RequestEntityTooLarge);
        Assert.Equal(HttpStatusCode.Accepted, train.StatusCode);
    }

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    private static HttpRequestMessage Preflight(string origin)
    {
        var request = new HttpRequestMessage(HttpMethod.Options, "/v1/predict");
        request.Headers.Add("Origin", origin);
        request.Headers.Add("Access-Control-Request-Method", "POST");
        request.Headers.Add("Access-Control-Request-Headers", "content-type");
        return request;
    }
}
