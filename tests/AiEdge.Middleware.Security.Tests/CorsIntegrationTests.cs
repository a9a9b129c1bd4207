using System.Net;
using AiEdge.Middleware.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace AiEdge.Middleware.Security.Tests;

public sealed class CorsIntegrationTests
{
    private static readonly Dictionary<string, string?> DefaultPorts = new()
    {
        ["AiEdge:Cors:AllowedOrigins:0"] = "http://app.example.com:80",
        ["AiEdge:Cors:AllowedOrigins:1"] = "https://api.example.com:443",
        ["AiEdge:Cors:AllowedOrigins:2"] = "https://*.tenant.example.org:443",
    };

    private static readonly Dictionary<string, string?> Origins = new()
    {
        ["AiEdge:Cors:AllowedOrigins:0"] = "https://app.example.com",
        ["AiEdge:Cors:AllowedOrigins:1"] = "http://localhost:5173",
        ["AiEdge:Cors:AllowedOrigins:2"] = "https://*.tenant.example.org",
    };

    private static Task<TestApp> StartAsync(IDictionary<string, string?>? configuration = null, Action<EdgeCorsOptions>? configure = null)
        => Hosts.StartAsync(
            edge => edge
                .AddSecurityHeaders()
                .AddCors(configure)
                .AddRefusal(AiEdgeStage.Authentication, StatusCodes.Status401Unauthorized)
                .AddRefusal(AiEdgeStage.RateLimiting, StatusCodes.Status429TooManyRequests),
            app =>
            {
                app.MapGet("/v1/models", () => "models");
                app.MapPost("/v1/predict", () => Results.Ok(new { label = "positive" }));
            },
            configuration ?? Origins);

    [Theory]
    [InlineData("https://app.example.com", true)]
    [InlineData("http://localhost:5173", true)]
    [InlineData("https://a.tenant.example.org", true)]
    [InlineData("https://a.b.tenant.example.org", true)]
    [InlineData("https://app.example.com.evil.net", false)]
    [InlineData("http://app.example.com", false)]
    [InlineData("https://app.example.com:8443", false)]
    [InlineData("https://evilapp.example.com", false)]
    [InlineData("https://app.example.co", false)]
    [InlineData("null", false)]
    [InlineData("http://localhost:5174", false)]
    [InlineData("http://localhost", false)]
    [InlineData("https://localhost:5173", false)]
    [InlineData("http://127.0.0.1:5173", false)]
    [InlineData("https://tenant.example.org", false)]
    [InlineData("https://atenant.example.org", false)]
    [InlineData("https://a.tenant.example.org.evil.net", false)]
    [InlineData("https://a.tenant.example.org:444", false)]
    [InlineData("http://a.tenant.example.org", false)]
    [InlineData("https://.tenant.example.org", false)]
    [InlineData("https://a..tenant.example.org", false)]
    [InlineData("https://evil.net/.tenant.example.org", false)]
    [InlineData("https://evil.net?.tenant.example.org", false)]
    [InlineData("https://evil@a.tenant.example.org", false)]
    [InlineData("https://app.example.com/", false)]
    [InlineData("https://app.example.com, https://evil.net", false)]
    [InlineData("https://app.example.com%0d%0aSet-Cookie:%20a=b", false)]
    [InlineData("", false)]
    [InlineData("https://app.example.com:443", true)]
    [InlineData("https://APP.Example.com", true)]
    [InlineData("https://a.tenant.example.org:443", true)]
    [InlineData("https://A-1.tenant.example.org", true)]
    [InlineData("https://aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.tenant.example.org", true)]
    [InlineData("https://aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.tenant.example.org", false)]
    [InlineData("https://-a.tenant.example.org", false)]
    [InlineData("https://a-.tenant.example.org", false)]
    [InlineData("https://a_b.tenant.example.org", false)]
    [InlineData("https://a.tenant.example.org.", false)]
    [InlineData("https://app.example.com.", false)]
    [InlineData("https://app.example.com:443/", false)]
    [InlineData("https://app.example.com#x", false)]
    [InlineData("https://app.example.com:0443", true)]
    [InlineData("https://app.example.com:80", false)]
    [InlineData("http://app.example.com:443", false)]
    public async Task ActualRequest_OnlyAllowedOriginsGetCorsHeaders(string origin, bool allowed)
    {
        await using var app = await StartAsync();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/models");
        request.Headers.TryAddWithoutValidation("Origin", origin);

        using var response = await app.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        SecurityHeadersAssert.HasApiPreset(response);
        if (allowed)
        {
            Assert.Equal(origin, SecurityHeadersAssert.Single(response, "Access-Control-Allow-Origin"));
            Assert.Contains("Origin", response.Headers.Vary);
            Assert.Contains("RateLimit", SecurityHeadersAssert.Single(response, "Access-Control-Expose-Headers"));
        }
        else
        {
            Assert.Null(SecurityHeadersAssert.Single(response, "Access-Control-Allow-Origin"));
            Assert.Null(SecurityHeadersAssert.Single(response, "Access-Control-Allow-Credentials"));
            Assert.Null(SecurityHeadersAssert.Single(response, "Set-Cookie"));
        }

        if (origin.Length > 0)
        {
            Assert.Contains("Origin", response.Headers.Vary);
        }
    }

    [Theory]
    [InlineData("https://app.example.com", true)]
    [InlineData("https://a.tenant.example.org", true)]
    [InlineData("https://app.example.com.evil.net", false)]
    [InlineData("http://app.example.com", false)]
    [InlineData("https://app.example.com:444", false)]
    [InlineData("null", false)]
    public async Task Preflight_Is204AtTheCorsStage_WithHeadersOnlyForAllowedOrigins(string origin, bool allowed)
    {
        await using var app = await StartAsync();
        using var rejections = new Hosts.Rejections(app.Services);

        // The stand-ins for authentication and rate limiting would refuse this request: the preflight never reaches them.
        using var response = await app.Client.SendAsync(Preflight("/v1/predict", origin, refuseWith: 429));

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        SecurityHeadersAssert.HasApiPreset(response);
        Assert.Contains("Origin", response.Headers.Vary);
        if (allowed)
        {
            Assert.Equal(origin, SecurityHeadersAssert.Single(response, "Access-Control-Allow-Origin"));
            Assert.Contains("POST", SecurityHeadersAssert.Single(response, "Access-Control-Allow-Methods"));
            Assert.Contains("content-type", SecurityHeadersAssert.Single(response, "Access-Control-Allow-Headers"), StringComparison.OrdinalIgnoreCase);
            Assert.Equal("86400", SecurityHeadersAssert.Single(response, "Access-Control-Max-Age"));
            Assert.Empty(rejections.Seen);
        }
        else
        {
            Assert.Null(SecurityHeadersAssert.Single(response, "Access-Control-Allow-Origin"));
            Assert.Null(SecurityHeadersAssert.Single(response, "Access-Control-Allow-Methods"));
            Assert.Contains(("cors", "preflight_origin_not_allowed"), rejections.Seen);
        }
    }

    [Theory]
    [InlineData(401)]
    [InlineData(429)]
    public async Task ActualRequest_RefusedByALaterStage_KeepsCorsHeaders_SoTheBrowserCanReadTheError(int status)
    {
        await using var app = await StartAsync();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/predict");
        request.Headers.Add("Origin", "https://app.example.com");
        request.Headers.Add("X-Refuse", status.ToString(System.Globalization.CultureInfo.InvariantCulture));

        using var response = await app.Client.SendAsync(request);

        await ProblemAssert.IsProblemAsync(response, (HttpStatusCode)status);
        Assert.Equal("https://app.example.com", SecurityHeadersAssert.Single(response, "Access-Control-Allow-Origin"));
        SecurityHeadersAssert.HasApiPreset(response);
    }

    [Theory]
    [InlineData("http://app.example.com", true)]
    [InlineData("http://app.example.com:80", true)]
    [InlineData("https://api.example.com", true)]
    [InlineData("https://api.example.com:443", true)]
    [InlineData("https://x.tenant.example.org", true)]
    [InlineData("https://app.example.com", false)]
    [InlineData("http://api.example.com", false)]
    [InlineData("https://api.example.com:8443", false)]
    public async Task ConfiguredDefaultPorts_MatchTheNormalizedOrigin(string origin, bool allowed)
    {
        await using var app = await StartAsync(DefaultPorts);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/models");
        request.Headers.TryAddWithoutValidation("Origin", origin);

        using var response = await app.Client.SendAsync(request);

        Assert.Equal(allowed ? origin : null, SecurityHeadersAssert.Single(response, "Access-Control-Allow-Origin"));
    }

    [Fact]
    public async Task RequestWithoutOrigin_PassesUntouched()
    {
        await using var app = await StartAsync();

        using var response = await app.Client.GetAsync("/v1/models");

        Assert.Null(SecurityHeadersAssert.Single(response, "Access-Control-Allow-Origin"));
        Assert.DoesNotContain("Origin", response.Headers.Vary);
    }

    [Fact]
    public async Task Credentials_AreAllowedForListedOrigins()
    {
        var settings = new Dictionary<string, string?>(Origins) { ["AiEdge:Cors:AllowCredentials"] = "true", ["AiEdge:Cors:PreflightMaxAgeSeconds"] = "600" };
        await using var app = await StartAsync(settings);

        using var preflight = await app.Client.SendAsync(Preflight("/v1/predict", "https://app.example.com"));

        Assert.Equal("true", SecurityHeadersAssert.Single(preflight, "Access-Control-Allow-Credentials"));
        Assert.Equal("https://app.example.com", SecurityHeadersAssert.Single(preflight, "Access-Control-Allow-Origin"));
        Assert.Equal("600", SecurityHeadersAssert.Single(preflight, "Access-Control-Max-Age"));
    }

    [Fact]
    public async Task AnyOriginWithoutCredentials_AnswersStar()
    {
        await using var app = await StartAsync(new Dictionary<string, string?> { ["AiEdge:Cors:AllowedOrigins:0"] = "*" });
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/models");
        request.Headers.Add("Origin", "https://anyone.example.net");

        using var response = await app.Client.SendAsync(request);

        Assert.Equal("*", SecurityHeadersAssert.Single(response, "Access-Control-Allow-Origin"));
        Assert.Null(SecurityHeadersAssert.Single(response, "Access-Control-Allow-Credentials"));
    }

    [Fact]
    public async Task FluentConfiguration_AddsToConfiguredOrigins()
    {
        await using var app = await StartAsync(configure: cors => cors.AllowedOrigins.Add("https://admin.example.com"));

        using var fluent = await app.Client.SendAsync(Preflight("/v1/predict", "https://admin.example.com"));
        using var configured = await app.Client.SendAsync(Preflight("/v1/predict", "https://app.example.com"));

        Assert.Equal("https://admin.example.com", SecurityHeadersAssert.Single(fluent, "Access-Control-Allow-Origin"));
        Assert.Equal("https://app.example.com", SecurityHeadersAssert.Single(configured, "Access-Control-Allow-Origin"));
    }

    [Fact]
    public async Task RefusedOrigin_IsCountedAsRejection()
    {
        await using var app = await StartAsync();
        using var rejections = new Hosts.Rejections(app.Services);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/models");
        request.Headers.Add("Origin", "https://app.example.com.evil.net");

        using var response = await app.Client.SendAsync(request);

        Assert.Equal([("cors", "origin_not_allowed")], rejections.Seen);
    }

    public static TheoryData<Dictionary<string, string?>, string> Invalid_configurations => new()
    {
        { new() { ["AiEdge:Cors:AllowedOrigins:0"] = "*", ["AiEdge:Cors:AllowCredentials"] = "true" }, "AiEdge:Cors:AllowedOrigins:0 \"*\" allows every origin" },
        { new() { ["AiEdge:Cors:AllowedOrigins:0"] = "https://*", ["AiEdge:Cors:AllowCredentials"] = "true" }, "AiEdge:Cors:AllowedOrigins:0 \"https://*\" matches every origin, which cannot be combined with AiEdge:Cors:AllowCredentials" },
        { new() { ["AiEdge:Cors:AllowedOrigins:0"] = "*://*", ["AiEdge:Cors:AllowCredentials"] = "true" }, "AiEdge:Cors:AllowCredentials" },
        { new() { ["AiEdge:Cors:AllowedOrigins:0"] = "https://*.*", ["AiEdge:Cors:AllowCredentials"] = "true" }, "AiEdge:Cors:AllowCredentials" },
        { new() { ["AiEdge:Cors:AllowedOrigins:0"] = "https://*.com", ["AiEdge:Cors:AllowCredentials"] = "true" }, "AiEdge:Cors:AllowCredentials" },
        { new() { ["AiEdge:Cors:AllowedOrigins:0"] = "https://app.example.com", ["AiEdge:Cors:AllowedOrigins:1"] = " * ", ["AiEdge:Cors:AllowCredentials"] = "true" }, "AiEdge:Cors:AllowedOrigins:1" },
        { new() { ["AiEdge:Cors:AllowAnyOrigin"] = "true", ["AiEdge:Cors:AllowCredentials"] = "true" }, "AiEdge:Cors:AllowAnyOrigin = true cannot be combined with AiEdge:Cors:AllowCredentials" },
        { new() { ["AiEdge:Cors:AllowedOrigins:0"] = "https://*" }, "AiEdge:Cors:AllowedOrigins:0 \"https://*\" matches every origin" },
        { new() { ["AiEdge:Cors:AllowedOrigins:0"] = "null" }, "AiEdge:Cors:AllowedOrigins:0 \"null\" cannot be allowed" },
        { new() { ["AiEdge:Cors:AllowedOrigins:0"] = "https://app.example.com/" }, "AiEdge:Cors:AllowedOrigins:0 \"https://app.example.com/\" must be an origin" },
        { new() { ["AiEdge:Cors:AllowedOrigins:0"] = "app.example.com" }, "AiEdge:Cors:AllowedOrigins:0" },
        { new() { ["AiEdge:Cors:AllowedOrigins:0"] = "https://app*.example.com" }, "AiEdge:Cors:AllowedOrigins:0" },
        { new() { ["AiEdge:Cors:AllowedOrigins:0"] = "https://app.example.com:99999" }, "AiEdge:Cors:AllowedOrigins:0" },
        { new() { ["AiEdge:Cors:AllowedHeaders:0"] = "X-Bad\r\nHeader" }, "AiEdge:Cors:AllowedHeaders:0" },
        { new() { ["AiEdge:Cors:PreflightMaxAgeSeconds"] = "-1" }, "AiEdge:Cors:PreflightMaxAgeSeconds" },
    };

    [Theory]
    [MemberData(nameof(Invalid_configurations))]
    public async Task BadConfiguration_FailsStartup_NamingTheKey(Dictionary<string, string?> settings, string expected)
    {
        await StartupAssert.FailsAsync(() => StartAsync(settings), expected);
    }

    [Fact]
    public async Task AllowAnyOriginWithCredentials_InCode_FailsStartup()
    {
        await StartupAssert.FailsAsync(
            () => StartAsync(
                new Dictionary<string, string?>(),
                cors =>
                {
                    cors.AllowAnyOrigin = true;
                    cors.AllowCredentials = true;
                }),
            "AiEdge:Cors:AllowAnyOrigin");
    }

    [Fact]
    public async Task DefaultPort_IsNormalized_InConfiguredOrigins()
    {
        await using var app = await StartAsync(new Dictionary<string, string?> { ["AiEdge:Cors:AllowedOrigins:0"] = "HTTPS://App.Example.com:443" });

        using var response = await app.Client.SendAsync(Preflight("/v1/predict", "https://app.example.com"));

        Assert.Equal("https://app.example.com", SecurityHeadersAssert.Single(response, "Access-Control-Allow-Origin"));
    }

    private static HttpRequestMessage Preflight(string path, string origin, int? refuseWith = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Options, path);
        request.Headers.TryAddWithoutValidation("Origin", origin);
        request.Headers.Add("Access-Control-Request-Method", "POST");
        request.Headers.Add("Access-Control-Request-Headers", "content-type");
        if (refuseWith is { } status)
        {
            request.Headers.Add("X-Refuse", status.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        return request;
    }
}
