using System.Net;
using System.Text;
using AiEdge.Middleware.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace AiEdge.Middleware.Security.Tests;

public sealed class SecurityHeadersIntegrationTests
{
    private static Task<TestApp> StartFullAsync(bool kestrel, IDictionary<string, string?>? configuration = null)
        => Hosts.StartAsync(
            edge => edge
                .AddSecurityHeaders()
                .AddCors(cors => cors.AllowedOrigins.Add("https://app.example.com"))
                .AddBodyLimits()
                .AddRefusal(AiEdgeStage.Authentication, StatusCodes.Status401Unauthorized)
                .AddRefusal(AiEdgeStage.RateLimiting, StatusCodes.Status429TooManyRequests),
            app =>
            {
                app.MapGet("/ok", () => "ok");
                app.MapPost("/upload", async (HttpRequest request) =>
                {
                    using var reader = new StreamReader(request.Body);
                    return (await reader.ReadToEndAsync()).Length;
                }).WithBodyLimit("1k");
                app.MapGet("/throw", IResult () => throw new InvalidOperationException("boom"));
                app.MapGet("/bad-request", () => Results.Problem(statusCode: 400, title: "bad"));
                app.MapGet("/stream", async (HttpContext context) =>
                {
                    context.Response.ContentType = "text/event-stream";
                    await context.Response.WriteAsync("data: one\n\n");
                    await context.Response.Body.FlushAsync();
                    await context.Response.WriteAsync("data: [DONE]\n\n");
                });
            },
            configuration,
            kestrel);

    public static TheoryData<string, bool> Short_circuits => new()
    {
        { "200 ok", false }, { "200 ok", true },
        { "200 stream", false }, { "200 stream", true },
        { "204 preflight", false }, { "204 preflight", true },
        { "400 endpoint problem", false }, { "400 endpoint problem", true },
        { "401 authentication", false }, { "401 authentication", true },
        { "404 no route", false }, { "404 no route", true },
        { "405 method", false }, { "405 method", true },
        { "413 content-length", false }, { "413 content-length", true },
        { "413 chunked", false },
        { "429 rate limit", false }, { "429 rate limit", true },
        { "500 exception", false }, { "500 exception", true },
    };

    [Theory]
    [MemberData(nameof(Short_circuits))]
    public async Task EveryResponse_CarriesApiPreset_AndNoServerHeader(string scenario, bool kestrel)
    {
        await using var app = await StartFullAsync(kestrel);
        using var request = scenario switch
        {
            "200 ok" => new HttpRequestMessage(HttpMethod.Get, "/ok"),
            "200 stream" => new HttpRequestMessage(HttpMethod.Get, "/stream"),
            "204 preflight" => Preflight(),
            "400 endpoint problem" => new HttpRequestMessage(HttpMethod.Get, "/bad-request"),
            "401 authentication" => Refused("/ok", 401),
            "404 no route" => new HttpRequestMessage(HttpMethod.Get, "/missing"),
            "405 method" => new HttpRequestMessage(HttpMethod.Delete, "/ok"),
            "413 content-length" => new HttpRequestMessage(HttpMethod.Post, "/upload") { Content = new ByteArrayContent(new byte[4096]) },
            "413 chunked" => new HttpRequestMessage(HttpMethod.Post, "/upload") { Content = new ChunkedContent(new byte[4096]) },
            "429 rate limit" => Refused("/ok", 429),
            "500 exception" => new HttpRequestMessage(HttpMethod.Get, "/throw"),
            _ => throw new ArgumentOutOfRangeException(nameof(scenario)),
        };
        using var response = await app.Client.SendAsync(request).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(int.Parse(scenario[..3]), (int)response.StatusCode);
        SecurityHeadersAssert.HasApiPreset(response);
    }

    [Fact]
    public async Task Https_SendsHsts_PlainHttp_DoesNot()
    {
        await using var app = await Hosts.StartAsync(edge => edge.AddSecurityHeaders(), map => map.MapGet("/", () => "ok"));

        using var https = await app.Client.GetAsync(new Uri("https://api.example.com/"));
        using var http = await app.Client.GetAsync(new Uri("http://api.example.com/"));
        using var httpsMissing = await app.Client.GetAsync(new Uri("https://api.example.com/missing"));

        SecurityHeadersAssert.HasApiPreset(https, https: true);
        SecurityHeadersAssert.HasApiPreset(http, https: false);
        SecurityHeadersAssert.HasApiPreset(httpsMissing, https: true);
    }

    [Fact]
    public async Task Hsts_FollowsTheSchemeAsNormalizedByForwardedHeaders()
    {
        // A stand-in for forwarded-header normalization: a trusted proxy said the client used HTTPS.
        await using var app = await Hosts.StartAsync(
            edge => edge.AddSecurityHeaders().AddStage(AiEdgeStage.ForwardedHeaders, "proto", a => a.Use((context, next) =>
            {
                if (context.Request.Headers["X-Test-Proto"] == "https")
                {
                    context.Request.Scheme = "https";
                }

                return next(context);
            })),
            map => map.MapGet("/", () => "ok"));

        using var forwarded = new HttpRequestMessage(HttpMethod.Get, "/");
        forwarded.Headers.Add("X-Test-Proto", "https");
        using var viaProxy = await app.Client.SendAsync(forwarded);
        using var direct = await app.Client.GetAsync("/");

        SecurityHeadersAssert.HasApiPreset(viaProxy, https: true);
        SecurityHeadersAssert.HasApiPreset(direct, https: false);
    }

    [Fact]
    public async Task ServerHeader_SetByTheApp_IsRemoved_AndKestrelAddsNone()
    {
        await using var app = await Hosts.StartAsync(
            edge => edge.AddSecurityHeaders(),
            map => map.MapGet("/", (HttpContext context) =>
            {
                context.Response.Headers.Server = "upstream/1.2.3";
                return "ok";
            }),
            kestrel: true);

        using var response = await app.Client.GetAsync("/");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Empty(response.Headers.Server);
    }

    [Fact]
    public async Task RemoveServerHeaderFalse_KeepsKestrelsHeader()
    {
        await using var app = await Hosts.StartAsync(
            edge => edge.AddSecurityHeaders(),
            map => map.MapGet("/", () => "ok"),
            new Dictionary<string, string?> { ["AiEdge:SecurityHeaders:RemoveServerHeader"] = "false" },
            kestrel: true);

        using var response = await app.Client.GetAsync("/");

        Assert.Equal("Kestrel", response.Headers.Server.ToString());
    }

    [Fact]
    public async Task NamedPolicy_AppliesToItsEndpoints_ByConventionAndAttribute()
    {
        await using var app = await Hosts.StartAsync(
            edge => edge.AddSecurityHeaders(options => options.AddPolicy("docs", policy => policy
                .AddDefaultApiSecurityHeaders()
                .AddFrameOptionsSameOrigin()
                .AddContentSecurityPolicy(csp =>
                {
                    csp.AddDefaultSrc().Self();
                    csp.AddScriptSrc().Self().From("https://cdn.example.com");
                    csp.AddFrameAncestors().None();
                }))),
            map =>
            {
                map.MapGet("/docs", () => "docs").WithSecurityHeadersPolicy("docs");
                map.MapGet("/docs2", [SecurityHeadersPolicy("docs")] () => "docs");
                map.MapGet("/api", () => "api");
            });

        foreach (var path in new[] { "/docs", "/docs2" })
        {
            using var docs = await app.Client.GetAsync(path);
            Assert.Equal("default-src 'self'; script-src 'self' https://cdn.example.com; frame-ancestors 'none'", SecurityHeadersAssert.Single(docs, "Content-Security-Policy"));
            Assert.Equal("SAMEORIGIN", SecurityHeadersAssert.Single(docs, "X-Frame-Options"));
            Assert.Equal("nosniff", SecurityHeadersAssert.Single(docs, "X-Content-Type-Options"));
        }

        using var api = await app.Client.GetAsync("/api");
        SecurityHeadersAssert.HasApiPreset(api);
    }

    [Fact]
    public async Task UnknownPolicyName_FailsStartup_NamingIt()
    {
        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => Hosts.StartAsync(
            edge => edge.AddSecurityHeaders(),
            map => map.MapGet("/docs", () => "docs").WithSecurityHeadersPolicy("swagger")));

        Assert.Contains("'swagger'", failure.Message);
    }

    [Fact]
    public async Task Configuration_ChangesOrOmitsPresetHeaders_AndAddsCustomOnes()
    {
        await using var app = await Hosts.StartAsync(
            edge => edge.AddSecurityHeaders(),
            map => map.MapGet("/", () => "ok"),
            new Dictionary<string, string?>
            {
                ["AiEdge:SecurityHeaders:ReferrerPolicy"] = "strict-origin-when-cross-origin",
                ["AiEdge:SecurityHeaders:FrameOptions"] = "",
                ["AiEdge:SecurityHeaders:CustomHeaders:X-Robots-Tag"] = "noindex",
            });

        using var response = await app.Client.GetAsync("/");

        Assert.Equal("strict-origin-when-cross-origin", SecurityHeadersAssert.Single(response, "Referrer-Policy"));
        Assert.Null(SecurityHeadersAssert.Single(response, "X-Frame-Options"));
        Assert.Equal("noindex", SecurityHeadersAssert.Single(response, "X-Robots-Tag"));
        Assert.Equal("nosniff", SecurityHeadersAssert.Single(response, "X-Content-Type-Options"));
    }

    [Fact]
    public async Task Disabled_SendsNothing()
    {
        await using var app = await Hosts.StartAsync(
            edge => edge.AddSecurityHeaders(),
            map => map.MapGet("/", () => "ok"),
            new Dictionary<string, string?> { ["AiEdge:SecurityHeaders:Enabled"] = "false" });

        using var response = await app.Client.GetAsync("/");

        Assert.Null(SecurityHeadersAssert.Single(response, "X-Content-Type-Options"));
    }

    [Theory]
    [InlineData("AiEdge:SecurityHeaders:CustomHeaders:X-Test", "a\nSet-Cookie: x=1", "AiEdge:SecurityHeaders:CustomHeaders:X-Test")]
    [InlineData("AiEdge:SecurityHeaders:CustomHeaders:Bad Name", "v", "AiEdge:SecurityHeaders:CustomHeaders:Bad Name")]
    [InlineData("AiEdge:SecurityHeaders:ContentSecurityPolicy", "default-src 'none'\r\nX-Evil: 1", "AiEdge:SecurityHeaders:ContentSecurityPolicy")]
    [InlineData("AiEdge:SecurityHeaders:StrictTransportSecurity", "includeSubDomains", "AiEdge:SecurityHeaders:StrictTransportSecurity")]
    public async Task BadConfiguration_FailsStartup_NamingTheKey(string key, string value, string named)
    {
        await StartupAssert.FailsAsync(
            () => Hosts.StartAsync(
                edge => edge.AddSecurityHeaders(),
                map => map.MapGet("/", () => "ok"),
                new Dictionary<string, string?> { [key] = value }),
            named);
    }

    [Fact]
    public async Task AddSecurityHeaders_Twice_SendsEachHeaderOnce()
    {
        await using var app = await Hosts.StartAsync(
            edge => edge.AddSecurityHeaders().AddSecurityHeaders(),
            map => map.MapGet("/", () => "ok"));

        using var response = await app.Client.GetAsync("/");

        SecurityHeadersAssert.HasApiPreset(response);
    }

    private static HttpRequestMessage Preflight()
    {
        var request = new HttpRequestMessage(HttpMethod.Options, "/ok");
        request.Headers.Add("Origin", "https://app.example.com");
        request.Headers.Add("Access-Control-Request-Method", "POST");
        return request;
    }

    private static HttpRequestMessage Refused(string path, int status)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Add("X-Refuse", status.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return request;
    }
}
