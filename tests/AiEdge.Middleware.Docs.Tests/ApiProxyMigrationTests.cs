using System.Net;
using System.Net.Http.Json;
using AiEdge.Middleware.Docs.Tests.Snippets;
using AiEdge.Middleware.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace AiEdge.Middleware.Docs.Tests;

/// <summary>The migrated NGINX reverse proxy of the guide behaves as the NGINX configuration did.</summary>
public sealed class ApiProxyMigrationTests : IAsyncLifetime
{
    private WebApplication _app = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { EnvironmentName = "Production" });
        builder.Logging.ClearProviders();
        builder.Configuration.AddJsonFile(Path.Combine(AppContext.BaseDirectory, "Snippets", "api-proxy.appsettings.json"));
        builder.WebHost.UseTestServer();

        // A clock that stands still: the rate-limit assertions must not depend on how fast the machine is.
        builder.Services.AddSingleton<TimeProvider>(new FakeTimeProvider(TestClock.Start));
        _app = ApiProxyMigration.Build(builder);
        await _app.StartAsync();
        _client = _app.GetTestClient();
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _app.DisposeAsync();
    }

    [Fact]
    public async Task AiZone_AdmitsOnePlusBurst_ThenAnswers429WithRetryAfter()
    {
        for (var i = 0; i < 6; i++)
        {
            using var admitted = await _client.PostAsJsonAsync("/api/generate", new { prompt = "p" });
            Assert.Equal(HttpStatusCode.OK, admitted.StatusCode);
        }

        using var rejected = await _client.PostAsJsonAsync("/api/generate", new { prompt = "p" });

        await ProblemAssert.IsProblemAsync(rejected, HttpStatusCode.TooManyRequests);
        Assert.True(rejected.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1));
        Assert.Equal("nosniff", rejected.Headers.GetValues("X-Content-Type-Options").Single());
    }

    [Fact]
    public async Task Preflight_FromTheAllowedOrigin_Is204WithMaxAge()
    {
        using var request = new HttpRequestMessage(HttpMethod.Options, "/api/generate");
        request.Headers.Add("Origin", "https://stevecv.com");
        request.Headers.Add("Access-Control-Request-Method", "POST");
        request.Headers.Add("Access-Control-Request-Headers", "content-type");

        using var response = await _client.SendAsync(request);

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal("https://stevecv.com", response.Headers.GetValues("Access-Control-Allow-Origin").Single());
        Assert.Equal("86400", response.Headers.GetValues("Access-Control-Max-Age").Single());
    }

    [Fact]
    public async Task Preflight_FromALookAlikeOrigin_GetsNoCorsHeaders()
    {
        using var request = new HttpRequestMessage(HttpMethod.Options, "/api/generate");
        request.Headers.Add("Origin", "https://stevecv.com.evil.net");
        request.Headers.Add("Access-Control-Request-Method", "POST");

        using var response = await _client.SendAsync(request);

        Assert.False(response.Headers.Contains("Access-Control-Allow-Origin"));
    }

    [Fact]
    public async Task Body_OverTheDefault10m_Is413_ButUploadsTake100m()
    {
        var eleven = new byte[11 * 1024 * 1024];

        using var refused = await _client.PostAsync("/api/generate", new ByteArrayContent(eleven) { Headers = { ContentType = new("application/json") } });
        using var accepted = await _client.PostAsync("/api/upload", new ByteArrayContent(eleven));

        await ProblemAssert.IsProblemAsync(refused, HttpStatusCode.RequestEntityTooLarge);
        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        Assert.Equal(eleven.Length, (await accepted.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>()).GetProperty("bytes").GetInt64());
    }

    [Fact]
    public async Task Stream_IsAnUncachedEventStream()
    {
        using var response = await _client.PostAsync("/api/stream", null);

        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("no", response.Headers.GetValues("X-Accel-Buffering").Single());
        Assert.Contains("data: Hello", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Health_IsServedByDefault()
    {
        using var response = await _client.GetAsync("/healthz");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }
}
