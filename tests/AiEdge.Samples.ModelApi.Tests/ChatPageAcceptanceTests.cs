using System.Net;
using Microsoft.Playwright;

namespace AiEdge.Samples.ModelApi.Tests;

/// <summary>
/// The sample's chat page (<c>GET /</c>, <c>GET /chat.js</c>): served with a Content-Security-Policy that allows its
/// own script and same-origin fetch and nothing else, while the API routes keep the strict API preset; and, in
/// Debian's Chromium, the page streams a chat completion without a single CSP violation.
/// </summary>
public sealed class ChatPageAcceptanceTests
{
    private const string ChromiumPath = "/usr/bin/chromium";
    private const string ApiPreset = "default-src 'none'; frame-ancestors 'none'";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Theory]
    [InlineData("/", "text/html")]
    [InlineData("/index.html", "text/html")]
    [InlineData("/chat.js", "text/javascript")]
    public async Task Page_and_script_are_served_with_a_csp_that_allows_exactly_them(string path, string mediaType)
    {
        await using var factory = new ModelApiFactory();
        using var client = factory.CreateClient();

        using var response = await client.GetAsync(path).WaitAsync(Timeout);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(mediaType, response.Content.Headers.ContentType?.MediaType);
        var csp = Directives(Assert.Single(response.Headers.GetValues("Content-Security-Policy")));
        Assert.Equal("'none'", csp["default-src"]);
        Assert.Equal("'self'", csp["script-src"]);
        Assert.Equal("'self'", csp["connect-src"]);
        Assert.Equal("'none'", csp["frame-ancestors"]);
        Assert.DoesNotContain(csp.Values, value => value.Contains("unsafe", StringComparison.Ordinal));
        Assert.Equal("nosniff", Assert.Single(response.Headers.GetValues("X-Content-Type-Options")));
        Assert.False(response.Headers.Contains("Server"));
        var body = await response.Content.ReadAsStringAsync().WaitAsync(Timeout);
        Assert.Contains(path == "/chat.js" ? "getReader()" : "<script src=\"/chat.js\" defer></script>", body, StringComparison.Ordinal);
        Assert.DoesNotContain(path == "/chat.js" ? "<script" : "onclick", body, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/v1/client")]
    [InlineData("/healthz")]
    [InlineData("/no-such-route")]
    public async Task Api_routes_still_send_the_strict_api_preset(string path)
    {
        await using var factory = new ModelApiFactory();
        using var client = factory.CreateClient();

        using var response = await client.GetAsync(path).WaitAsync(Timeout);

        Assert.Equal(ApiPreset, Assert.Single(response.Headers.GetValues("Content-Security-Policy")));
    }

    [Fact]
    public async Task Strict_preset_on_the_streamed_chat_completion_the_page_calls()
    {
        await using var factory = new ModelApiFactory(new Dictionary<string, string?> { ["Sample:TokenDelayMs"] = "0" });
        using var client = factory.CreateClient();
        using var content = new StringContent("{\"model\":\"toy-chat\",\"stream\":true,\"max_tokens\":3,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
            System.Text.Encoding.UTF8, "application/json");

        using var response = await client.PostAsync("/v1/chat/completions", content).WaitAsync(Timeout);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(ApiPreset, Assert.Single(response.Headers.GetValues("Content-Security-Policy")));
    }

    [Fact]
    public async Task Page_streams_a_chat_completion_in_chromium_without_csp_violations()
    {
        Environment.SetEnvironmentVariable("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1");
        Assert.True(File.Exists(ChromiumPath), $"{ChromiumPath} is required (apt-get install chromium, or run ./test.sh).");
        await using var factory = new ModelApiFactory(new Dictionary<string, string?> { ["Sample:TokenDelayMs"] = "5" });
        var address = factory.StartKestrel();

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
            Timeout = 60_000,
        });
        var context = await browser.NewContextAsync();
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(30_000);
        var violations = new List<string>();
        page.Console += (_, message) =>
        {
            if (message.Text.Contains("Content Security Policy", StringComparison.OrdinalIgnoreCase))
            {
                violations.Add(message.Text);
            }
        };

        var response = await page.GotoAsync(address.ToString());
        Assert.Equal(200, response!.Status);

        // chat.js ran (the CSP let it) once the body is marked ready; then send a prompt and wait for the end.
        await page.WaitForSelectorAsync("body[data-ready='true']");
        await page.FillAsync("#prompt", "Say hello to the edge");
        await page.ClickAsync("#send");
        await page.WaitForFunctionAsync("() => document.getElementById('status').textContent.includes('done')");

        var output = await page.TextContentAsync("#output");
        Assert.False(string.IsNullOrWhiteSpace(output));
        Assert.Contains("tokens:", await page.TextContentAsync("#status"), StringComparison.Ordinal);
        Assert.Empty(violations);
    }

    private static Dictionary<string, string> Directives(string policy)
    {
        var directives = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var part in policy.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var space = part.IndexOf(' ', StringComparison.Ordinal);
            directives[space < 0 ? part : part[..space]] = space < 0 ? string.Empty : part[(space + 1)..];
        }

        return directives;
    }
}
