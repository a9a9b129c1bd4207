using System.Text.Json;
using AiEdge.Middleware.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace AiEdge.Middleware.Security.Tests;

/// <summary>
/// A real browser against real Kestrel hosts: a page served from one loopback origin posts JSON (a preflighted
/// request) to the API on another origin and reads a streamed chat completion with fetch and a ReadableStream;
/// a page on an origin that is not allowed is refused by CORS.
/// </summary>
public sealed class BrowserCorsTests(BrowserFixture browser) : IClassFixture<BrowserFixture>
{
    private const string Page = "<!doctype html><html><head><title>client</title></head><body>client</body></html>";

    private const string StreamScript = """
        async (url) => {
          const response = await fetch(url, {
            method: 'POST',
            headers: { 'Content-Type': 'application/json' },
            body: JSON.stringify({ model: 'toy', stream: true, messages: [{ role: 'user', content: 'hello' }] }),
          });
          const reader = response.body.getReader();
          const decoder = new TextDecoder();
          let text = '';
          let reads = 0;
          for (;;) {
            const { done, value } = await reader.read();
            if (done) break;
            reads++;
            text += decoder.decode(value, { stream: true });
          }
          return JSON.stringify({ status: response.status, contentType: response.headers.get('content-type'), text, reads });
        }
        """;

    private const string RefusedScript = """
        async (url) => {
          try {
            await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"stream":true}' });
            return 'allowed';
          } catch (error) {
            return 'refused: ' + error.name;
          }
        }
        """;

    private sealed class Counters
    {
        public int Preflights;
        public int Completions;
    }

    [Fact]
    public async Task AllowedOrigin_PostsPreflightedJson_AndReadsTheStreamedCompletion()
    {
        await using var page = await StartPageAsync(csp: null);
        var counters = new Counters();
        await using var api = await StartApiAsync(Origin(page), counters);
        var tab = await OpenAsync(page);

        var result = JsonDocument.Parse(await tab.EvaluateAsync<string>(StreamScript, Url(api))).RootElement;

        Assert.Equal(200, result.GetProperty("status").GetInt32());
        Assert.StartsWith("text/event-stream", result.GetProperty("contentType").GetString());
        var text = result.GetProperty("text").GetString()!;
        for (var i = 0; i < 5; i++)
        {
            Assert.Contains($"\"content\":\"token{i} \"", text);
        }

        Assert.EndsWith("data: [DONE]\n\n", text);
        Assert.Equal(1, Volatile.Read(ref counters.Preflights));
        Assert.Equal(1, Volatile.Read(ref counters.Completions));
    }

    [Fact]
    public async Task PageContentSecurityPolicy_FromTheFluentBuilder_IsEnforcedByTheBrowser()
    {
        // The page's named policy allows connect-src to one origin only; the API it then calls is allowed by CORS
        // but not by the page's CSP, so the browser sends nothing at all.
        var counters = new Counters();
        await using var elsewhere = await StartApiAsync("http://unused.example.com", counters);
        await using var page = await StartPageAsync(csp: Origin(elsewhere));
        await using var api = await StartApiAsync(Origin(page), counters);
        var tab = await OpenAsync(page);

        var result = await tab.EvaluateAsync<string>(RefusedScript, Url(api));

        Assert.Equal("refused: TypeError", result);
        Assert.Equal(0, Volatile.Read(ref counters.Preflights));
        Assert.Equal(0, Volatile.Read(ref counters.Completions));
    }

    [Fact]
    public async Task OtherOrigin_IsRefusedByCors_AndTheEndpointNeverRuns()
    {
        await using var allowed = await StartPageAsync(csp: null);
        await using var other = await StartPageAsync(csp: null);
        var counters = new Counters();
        await using var api = await StartApiAsync(Origin(allowed), counters);
        var tab = await OpenAsync(other);

        var result = await tab.EvaluateAsync<string>(RefusedScript, Url(api));

        Assert.Equal("refused: TypeError", result);
        Assert.Equal(1, Volatile.Read(ref counters.Preflights));
        Assert.Equal(0, Volatile.Read(ref counters.Completions));
    }

    private async Task<IPage> OpenAsync(TestApp page)
    {
        var context = await browser.Browser.NewContextAsync();
        var tab = await context.NewPageAsync();
        tab.SetDefaultTimeout(30_000);
        var response = await tab.GotoAsync(page.BaseAddress.ToString());
        Assert.Equal(200, response!.Status);
        return tab;
    }

    private static string Origin(TestApp app) => app.BaseAddress.GetLeftPart(UriPartial.Authority);

    private static string Url(TestApp api) => new Uri(api.BaseAddress, "/v1/chat/completions").ToString();

    private static Task<TestApp> StartPageAsync(string? csp)
        => Hosts.StartAsync(
            edge => edge.AddSecurityHeaders(options => options.AddPolicy("page", policy => policy
                .AddDefaultApiSecurityHeaders()
                .AddContentSecurityPolicy(c =>
                {
                    c.AddDefaultSrc().None();
                    c.AddConnectSrc().From(csp ?? "http://127.0.0.1:*");

                    c.AddFrameAncestors().None();
                }))),
            app => app.MapGet("/", () => Results.Content(Page, "text/html")).WithSecurityHeadersPolicy("page"),
            kestrel: true);

    private static Task<TestApp> StartApiAsync(string origin, Counters counters)
        => Hosts.StartAsync(
            edge => edge
                .AddSecurityHeaders()
                .AddCors()
                .AddBodyLimits()
                .AddStage(AiEdgeStage.Diagnostics, "count-preflights", a => a.Use((context, next) =>
                {
                    if (HttpMethods.IsOptions(context.Request.Method))
                    {
                        Interlocked.Increment(ref counters.Preflights);
                    }

                    return next(context);
                }))
                .AddRefusal(AiEdgeStage.Authentication, StatusCodes.Status401Unauthorized),
            app => app.MapPost("/v1/chat/completions", async (HttpContext context) =>
            {
                Interlocked.Increment(ref counters.Completions);
                using var body = await JsonDocument.ParseAsync(context.Request.Body);
                context.Response.ContentType = "text/event-stream";
                context.Response.Headers.CacheControl = "no-cache";
                for (var i = 0; i < 5; i++)
                {
                    await context.Response.WriteAsync($"data: {{\"choices\":[{{\"delta\":{{\"content\":\"token{i} \"}}}}]}}\n\n");
                    await context.Response.Body.FlushAsync();
                }

                await context.Response.WriteAsync("data: [DONE]\n\n");
            }).WithBodyLimit("1m"),
            new Dictionary<string, string?> { ["AiEdge:Cors:AllowedOrigins:0"] = origin },
            kestrel: true);
}
