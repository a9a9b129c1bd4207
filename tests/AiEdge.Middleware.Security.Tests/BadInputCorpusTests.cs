using System.Net;
using AiEdge.Middleware.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace AiEdge.Middleware.Security.Tests;

/// <summary>
/// Bytes no well-behaved client sends, over a real socket to Kestrel: each gets the right 4xx, nothing is reflected
/// or injected into the response, no <c>Server</c> header leaks, and the application keeps serving.
/// </summary>
public sealed class BadInputCorpusTests : IAsyncLifetime
{
    private TestApp _app = null!;

    public async Task InitializeAsync()
        => _app = await Hosts.StartAsync(
            edge => edge.AddSecurityHeaders().AddCors().AddBodyLimits(),
            app =>
            {
                app.MapGet("/v1/models", () => "models");
                app.MapPost("/v1/predict", async (HttpRequest request) =>
                {
                    using var reader = new StreamReader(request.Body);
                    return (await reader.ReadToEndAsync()).Length;
                }).WithBodyLimit("1k");
            },
            new Dictionary<string, string?> { ["AiEdge:Cors:AllowedOrigins:0"] = "https://app.example.com" },
            kestrel: true);

    public async Task DisposeAsync() => await _app.DisposeAsync();

    public static TheoryData<string, string, int> Corpus => new()
    {
        { "header line injected after an allowed origin", "GET /v1/models HTTP/1.1\r\nHost: x\r\nOrigin: https://app.example.com\r\nX-Injected: yes\r\n\r\n", 200 },
        { "encoded CRLF in Origin", "GET /v1/models HTTP/1.1\r\nHost: x\r\nOrigin: https://app.example.com%0d%0aSet-Cookie:%20a=b\r\n\r\n", 200 },
        { "look-alike origin", "GET /v1/models HTTP/1.1\r\nHost: x\r\nOrigin: https://app.example.com.evil.net\r\n\r\n", 200 },
        { "two Origin headers", "GET /v1/models HTTP/1.1\r\nHost: x\r\nOrigin: https://app.example.com\r\nOrigin: https://evil.net\r\n\r\n", 200 },
        { "obs-fold continuation line", "GET /v1/models HTTP/1.1\r\nHost: x\r\nOrigin: https://app.example.com\r\n Set-Cookie: a=b\r\n\r\n", 400 },
        { "bare LF header break, nothing reflected", "GET /v1/models HTTP/1.1\r\nHost: x\r\nX-A: 1\nSet-Cookie: a=b\r\n\r\n", 200 },
        { "NUL in a header value", "GET /v1/models HTTP/1.1\r\nHost: x\r\nOrigin: https://app.example.com\0evil\r\n\r\n", 400 },
        { "header without a colon", "GET /v1/models HTTP/1.1\r\nHost: x\r\nOrigin https://app.example.com\r\n\r\n", 400 },
        { "space before the colon", "GET /v1/models HTTP/1.1\r\nHost: x\r\nOrigin : https://app.example.com\r\n\r\n", 400 },
        { "oversized header", "GET /v1/models HTTP/1.1\r\nHost: x\r\nX-Big: " + new string('a', 40 * 1024) + "\r\n\r\n", 431 },
        { "too many headers", "GET /v1/models HTTP/1.1\r\nHost: x\r\n" + string.Concat(Enumerable.Range(0, 150).Select(i => $"X-H{i}: v\r\n")) + "\r\n", 431 },
        { "oversized request line", "GET /v1/models?q=" + new string('a', 20 * 1024) + " HTTP/1.1\r\nHost: x\r\n\r\n", 414 },
        { "non-numeric Content-Length", "POST /v1/predict HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n", 400 },
        { "conflicting Content-Lengths", "POST /v1/predict HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello", 400 },
        { "bad chunk size", "POST /v1/predict HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n", 400 },
        { "oversized declared body", "POST /v1/predict HTTP/1.1\r\nHost: x\r\nContent-Length: 1048576\r\n\r\n", 413 },
        { "oversized chunked body", "POST /v1/predict HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n800\r\n" + new string('a', 2048) + "\r\n0\r\n\r\n", 413 },
    };

    [Theory]
    [MemberData(nameof(Corpus))]
    public async Task BadInput_GetsTheRight4xx_InjectsNothing_AndTheAppKeepsServing(string name, string request, int expected)
    {
        var answer = await RawHttp.SendAsync(_app.BaseAddress, request);

        Assert.True(expected == answer.Status, $"{name}: expected {expected}, got {answer.Status}\n{answer.Head}");
        Assert.False(answer.Headers.ContainsKey("Server"), name);
        Assert.False(answer.Headers.ContainsKey("Set-Cookie"), name);
        Assert.False(answer.Headers.ContainsKey("X-Injected"), name);
        if (answer.Headers.TryGetValue("Access-Control-Allow-Origin", out var allowed))
        {
            Assert.Equal("https://app.example.com", allowed);
            Assert.StartsWith("header line injected", name);
        }

        if (expected < 400 || expected == 413)
        {
            // Answers the application gives carry the security headers (Kestrel's own 400/431/414 come before the app).
            Assert.Equal("nosniff", answer.Headers["X-Content-Type-Options"]);
        }

        using var after = await _app.Client.GetAsync("/v1/models").WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
    }
}
