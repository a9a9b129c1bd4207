using System.Net;
using System.Text.Json;
using AiEdge.Middleware.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace AiEdge.Middleware.Security.Tests;

public sealed class BodyLimitIntegrationTests
{
    private sealed class Calls
    {
        private int _count;

        public int Count => Volatile.Read(ref _count);

        public void Add() => Interlocked.Increment(ref _count);
    }

    private static Task<TestApp> StartAsync(Calls calls, bool kestrel = false, IDictionary<string, string?>? configuration = null)
        => Hosts.StartAsync(
            edge => edge.AddSecurityHeaders().AddBodyLimits(),
            app =>
            {
                async Task<IResult> Count(HttpRequest request)
                {
                    calls.Add();
                    var buffer = new byte[81920];
                    long total = 0;
                    int read;
                    while ((read = await request.Body.ReadAsync(buffer)) > 0)
                    {
                        total += read;
                    }

                    return Results.Ok(new { bytes = total });
                }

                app.MapPost("/small", Count).WithBodyLimit("1k");
                app.MapPost("/attribute", [BodyLimit("2k")] (HttpRequest request) => Count(request));
                app.MapPost("/default", Count);
                app.MapPost("/upload", Count).WithBodyLimit("40m");
                app.MapPost("/unlimited", Count).DisableBodyLimit();
                app.MapPost("/json", async (HttpRequest request) =>
                {
                    calls.Add();
                    using var document = await JsonDocument.ParseAsync(request.Body);
                    return Results.Ok();
                }).WithBodyLimit("1k");
            },
            configuration,
            kestrel);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ContentLengthTooLarge_Is413_BeforeTheEndpointReadsAnything(bool kestrel)
    {
        var calls = new Calls();
        await using var app = await StartAsync(calls, kestrel);
        using var rejections = new Hosts.Rejections(app.Services);

        using var response = await app.Client.PostAsync("/small", new ByteArrayContent(new byte[1025])).WaitAsync(TimeSpan.FromSeconds(30));

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.RequestEntityTooLarge);
        Assert.Equal(1024, problem.GetProperty("limit").GetInt64());
        Assert.Contains("1k", problem.GetProperty("detail").GetString());
        Assert.Equal(0, calls.Count);
        SecurityHeadersAssert.HasApiPreset(response);
        Assert.Equal([("bodylimit", "content_length")], rejections.Seen);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ContentLengthTooLarge_Is413BeforeTheRateLimitingStageReads_WithoutContinue(bool expectContinue)
    {
        // The rate-limiting stage reads bodies (token estimates); the body limit must decide before it, on the
        // declared length alone, so Kestrel never sends 100 Continue for a body that will be refused.
        var reads = new Calls();
        await using var app = await Hosts.StartAsync(
            edge => edge.AddSecurityHeaders().AddBodyLimits().AddStage(AiEdgeStage.RateLimiting, "test-body-reader", app => app.Use(async (context, next) =>
            {
                reads.Add();
                var buffer = new byte[16];
                _ = await context.Request.Body.ReadAsync(buffer);
                await next(context);
            })),
            app => app.MapPost("/small", () => Results.Ok()).WithBodyLimit("1k"),
            kestrel: true);
        using var rejections = new Hosts.Rejections(app.Services);
        await using var connection = await RawHttpConnection.OpenAsync(app.BaseAddress);

        await connection.SendAsync("POST /small HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
            + (expectContinue ? "Expect: 100-continue\r\n" : string.Empty) + "Content-Length: 1025\r\n\r\n");
        var response = await connection.ReadResponseAsync();

        Assert.Empty(response.InterimStatusCodes);
        Assert.Equal(413, response.StatusCode);
        Assert.Equal("application/problem+json", response.MediaType);
        Assert.Equal("nosniff", response.Headers["X-Content-Type-Options"]);
        Assert.Equal("close", response.Headers["Connection"]);
        Assert.Equal(0, reads.Count);
        Assert.Equal([("bodylimit", "content_length")], rejections.Seen);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ChunkedBodyCrossingTheLimit_Is413_WhileReading(bool kestrel)
    {
        var calls = new Calls();
        await using var app = await StartAsync(calls, kestrel);
        using var rejections = new Hosts.Rejections(app.Services);

        // No length: the body is sent chunked (Kestrel) or streamed (TestServer).
        using var response = await app.Client.PostAsync("/small", new ChunkedContent(new byte[8 * 1024])).WaitAsync(TimeSpan.FromSeconds(30));

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.RequestEntityTooLarge);
        Assert.Equal(1, calls.Count);
        SecurityHeadersAssert.HasApiPreset(response);
        Assert.Equal([("bodylimit", "body_too_large")], rejections.Seen);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ChunkedBodyWithinTheLimit_IsServed(bool kestrel)
    {
        var calls = new Calls();
        await using var app = await StartAsync(calls, kestrel);

        using var response = await app.Client.PostAsync("/small", new ChunkedContent(new byte[1024])).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("\"bytes\":1024", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task JsonEndpoint_ReadingAnOversizedChunkedBody_Gets413Problem_Not500()
    {
        var calls = new Calls();
        await using var app = await StartAsync(calls);
        var json = "{\"input\":\"" + new string('x', 4096) + "\"}";

        using var response = await app.Client.PostAsync("/json", new ChunkedContent(System.Text.Encoding.UTF8.GetBytes(json)));

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.RequestEntityTooLarge);
    }

    [Theory]
    [InlineData("/attribute", 2048, HttpStatusCode.OK)]
    [InlineData("/attribute", 2049, HttpStatusCode.RequestEntityTooLarge)]
    [InlineData("/default", 4096, HttpStatusCode.OK)]
    [InlineData("/default", 4097, HttpStatusCode.RequestEntityTooLarge)]
    [InlineData("/unlimited", 64 * 1024, HttpStatusCode.OK)]
    public async Task Limits_ComeFromAttribute_ConfiguredDefault_OrNone(string path, int size, HttpStatusCode expected)
    {
        var calls = new Calls();
        await using var app = await StartAsync(calls, configuration: new Dictionary<string, string?> { ["AiEdge:BodyLimits:Default"] = "4k" });

        using var response = await app.Client.PostAsync(path, new ByteArrayContent(new byte[size]));

        Assert.Equal(expected, response.StatusCode);
    }

    [Fact]
    public async Task DefaultLimit_Is10m()
    {
        var calls = new Calls();
        await using var app = await StartAsync(calls);

        using var atLimit = await app.Client.PostAsync("/default", new ByteArrayContent(new byte[10 * 1024 * 1024]));
        using var over = await app.Client.PostAsync("/default", new ByteArrayContent(new byte[(10 * 1024 * 1024) + 1]));

        Assert.Equal(HttpStatusCode.OK, atLimit.StatusCode);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, over.StatusCode);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task EndpointLimitAboveKestrelsOwnDefault_IsHonouredOnKestrel(bool chunked)
    {
        // Kestrel refuses bodies over 30,000,000 bytes unless told otherwise: the endpoint's 40m must win.
        var calls = new Calls();
        await using var app = await StartAsync(calls, kestrel: true);
        var body = new byte[32 * 1024 * 1024];
        HttpContent content = chunked ? new ChunkedContent(body, 1024 * 1024) : new ByteArrayContent(body);

        using var response = await app.Client.PostAsync("/upload", content).WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("\"bytes\":33554432", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task HugeDeclaredContentLength_IsAnsweredWithoutSendingTheBody_AndTheServerKeepsServing()
    {
        var calls = new Calls();
        await using var app = await StartAsync(calls, kestrel: true);

        var response = await RawHttp.SendAsync(app.BaseAddress, "POST /small HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/octet-stream\r\nContent-Length: 107374182400\r\n\r\n");

        Assert.Equal(413, response.Status);
        Assert.Contains("application/problem+json", response.Headers["content-type"]);
        Assert.Equal(0, calls.Count);
        using var after = await app.Client.PostAsync("/small", new ByteArrayContent(new byte[10]));
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
    }

    [Fact]
    public async Task RequestsWithoutBody_AreUntouched()
    {
        var calls = new Calls();
        await using var app = await StartAsync(calls);

        using var response = await app.Client.PostAsync("/small", null);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Theory]
    [InlineData("ten")]
    [InlineData("10mb")]
    [InlineData("-1")]
    [InlineData("")]
    public async Task BadDefault_FailsStartup_NamingTheKey(string value)
    {
        await StartupAssert.FailsAsync(
            () => StartAsync(new Calls(), configuration: new Dictionary<string, string?> { ["AiEdge:BodyLimits:Default"] = value }),
            "AiEdge:BodyLimits:Default must look like \"10m\"");
    }

    [Fact]
    public void WithBodyLimit_BadSize_Throws()
    {
        var error = Assert.Throws<ArgumentException>(() => new BodyLimitAttribute("1 MB"));
        Assert.Contains("\"1 MB\"", error.Message);
    }
}
