using System.Text.Json;
using AiEdge.Middleware.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Playwright;

namespace AiEdge.Samples.ModelApi.Tests;

/// <summary>
/// Debian's Chromium (<c>/usr/bin/chromium</c>, never a downloaded browser) against the sample on Kestrel: a page on
/// the origin named in <c>AiEdge:Cors:AllowedOrigins</c> posts JSON (preflighted) to <c>/v1/chat/completions</c> and
/// reads the streamed completion with fetch and a ReadableStream; a page on another origin is refused by CORS.
/// </summary>
public sealed class BrowserAcceptanceTests
{
    private const string ChromiumPath = "/usr/bin/chromium";

    private const string StreamScript = """
        async (url) => {
          const response = await fetch(url, {
            method: 'POST',
            headers: { 'Content-Type': 'application/json' },
            body: JSON.stringify({ model: 'toy-chat', stream: true, max_tokens: 5, messages: [{ role: 'user', content: 'Say hello' }] }),
          });
          const reader = response.body.getReader();
          const decoder = new TextDecoder();
          let text = '';
          for (;;) {
            const { done, value } = await reader.read();
            if (done) break;
            text += decoder.decode(value, { stream: true });
          }
          return JSON.stringify({ status: response.status, contentType: response.headers.get('content-type'), text });
        }
        """;

    private const string RefusedScript = """
        async (url) => {
          try {
            await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"stream":true,"messages":[{"role":"user","content":"x"}]}' });
            return 'allowed';
          } catch (error) {
            return 'refused: ' + error.name;
          }
        }
        """;

    [Fact]
    public async Task PageOnTheAllowedOrigin_StreamsAChatCompletion_PageOnAnotherOriginIsRefused()
    {
        Environment.SetEnvironmentVariable("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1");
        Assert.True(File.Exists(ChromiumPath), $"{ChromiumPath} is required (apt-get install chromium, or run ./test.sh).");
        await using var allowedPage = await StartPageAsync();
        await using var otherPage = await StartPageAsync();
        await using var factory = new ModelApiFactory(new Dictionary<string, string?>
        {
            ["AiEdge:Cors:AllowedOrigins:0"] = allowedPage.BaseAddress.GetLeftPart(UriPartial.Authority),
            ["Sample:TokenDelayMs"] = "5",
        });
        var api = new Uri(factory.StartKestrel(), "/v1/chat/completions").ToString();

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
            Timeout = 60_000,
        });

        var allowed = await OpenAsync(browser, allowedPage);
        var result = JsonDocument.Parse(await allowed.EvaluateAsync<string>(StreamScript, api)).RootElement;
        Assert.Equal(200, result.GetProperty("status").GetInt32());
        Assert.StartsWith("text/event-stream", result.GetProperty("contentType").GetString());
        var text = result.GetProperty("text").GetString()!;
        Assert.Contains("chat.completion.chunk", text);
        Assert.Contains("\"usage\"", text);
        Assert.EndsWith("data: [DONE]\n\n", text.Replace("\r\n", "\n", StringComparison.Ordinal));

        var other = await OpenAsync(browser, otherPage);
        Assert.Equal("refused: TypeError", await other.EvaluateAsync<string>(RefusedScript, api));
    }

    private static async Task<IPage> OpenAsync(IBrowser browser, TestApp page)
    {
        var context = await browser.NewContextAsync();
        var tab = await context.NewPageAsync();
        tab.SetDefaultTimeout(30_000);
        var response = await tab.GotoAsync(page.BaseAddress.ToString());
        Assert.Equal(200, response!.Status);
        return tab;
    }

    private static Task<TestApp> StartPageAsync()
        => TestApp.StartKestrelAsync(
            static _ => { },
            static app => app.MapGet("/", static () => Results.Content("<!doctype html><title>client</title><p>client</p>", "text/html")));
}
