using System.Net;
using AiEdge.Middleware.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace AiEdge.Middleware.Authentication.Tests;

/// <summary>
/// The configuration rules hold across packages: every mistake of every section in one startup exception, and a
/// reload of appsettings.json on disk that brings a new API key and a new CORS origin into effect without a restart.
/// </summary>
public sealed class ConfigurationAcrossPackagesTests
{
    [Fact]
    public async Task MistakesOfSeveralPackages_AreListedInOneStartupException()
    {
        var configuration = new Dictionary<string, string?>
        {
            ["AiEdge:RateLimiting:Tiers:predict:Rate"] = "10r/s",
            ["AiEdge:RateLimiting:Tiers:predict:Burst"] = "twenty",
            ["AiEdge:Caching:Anonymus"] = "Shared",
            ["AiEdge:Authentication:ApiKeys:HeaderNme"] = "X-Key",
            ["AiEdge:Cors:PreflightMaxAgeSeconds"] = "a day",
            ["AiEdge:Redis:Configuration"] = "localhost:6379",
        };

        var error = await StartupAssert.FailsAsync(
            () => TestApp.StartEdgeAsync(
                static edge => edge.AddEdgeAuthentication().AddCors().AddRateLimiting().AddPredictionCache(),
                static app => app.MapGet("/p", static () => "ok").WithRateLimitTier("predict"),
                new TestAppOptions { Configuration = configuration }),
            "AiEdge:RateLimiting:Tiers:predict:Burst has the value \"twenty\", which is not a whole number.");

        Assert.Contains("AiEdge:Caching:Anonymus is not a known setting; the nearest valid key is AiEdge:Caching:Anonymous.", error.Message, StringComparison.Ordinal);
        Assert.Contains("AiEdge:Authentication:ApiKeys:HeaderNme is not a known setting; the nearest valid key is AiEdge:Authentication:ApiKeys:HeaderName.", error.Message, StringComparison.Ordinal);
        Assert.Contains("AiEdge:Cors:PreflightMaxAgeSeconds has the value \"a day\", which is not a whole number.", error.Message, StringComparison.Ordinal);

        // AddRedis() was not called: its section is read by nobody, which is a mistake too.
        Assert.Contains("AiEdge:Redis is not a known setting", error.Message, StringComparison.Ordinal);
        Assert.Equal(5, error.Failures.Count());
    }

    [Fact]
    public async Task Reload_ANewApiKeyAndANewCorsOrigin_WorkWithoutARestart()
    {
        var one = ApiKeyHasher.GenerateKey("one_");
        var two = ApiKeyHasher.GenerateKey("two_");
        using var file = new SettingsFile(Settings(("one", one)), "https://a.example");
        await using var app = await TestApp.StartEdgeAsync(
            static edge => edge.AddCors().AddEdgeAuthentication(),
            static app => app.MapGet("/who", static (HttpContext context) => context.GetCallerId()).RequireAuthenticatedCaller(),
            new TestAppOptions { Time = new FakeTimeProvider(TestKeys.Now), Services = file.AddTo });

        Assert.Equal(HttpStatusCode.OK, await StatusAsync(app, one));
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(app, two));
        Assert.Null(await AllowedOriginAsync(app, "https://b.example"));

        await file.RewriteAndWaitAsync(app, Settings(("one", one), ("two", two)), "https://a.example", "https://b.example");

        Assert.Equal(HttpStatusCode.OK, await StatusAsync(app, two));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(app, one));
        Assert.Equal("https://b.example", await AllowedOriginAsync(app, "https://b.example"));
        Assert.Equal("https://a.example", await AllowedOriginAsync(app, "https://a.example"));
    }

    [Theory]
    [InlineData("ConnectTimeout", "3s", "00:00:03")]
    [InlineData("CommandTimeout", "500ms", "00:00:00.500")]
    [InlineData("MaxReconnectDelay", "1m", "00:01:00")]
    public async Task RedisDurations_TakeBothSyntaxes(string key, string shortForm, string timeSpanForm)
    {
        var bound = new List<TimeSpan>();
        foreach (var value in new[] { shortForm, timeSpanForm })
        {
            await using var app = await TestApp.StartEdgeAsync(
                static edge => edge.AddRedis(),
                static app => app.MapGet("/", static () => "ok"),
                new TestAppOptions { Configuration = new Dictionary<string, string?> { ["AiEdge:Redis:" + key] = value } });
            var options = app.Services.GetRequiredService<IOptions<Redis.RedisOptions>>().Value;
            bound.Add(key switch
            {
                "ConnectTimeout" => options.ConnectTimeout,
                "CommandTimeout" => options.CommandTimeout,
                _ => options.MaxReconnectDelay,
            });
        }

        var expected = TimeSpan.Parse(timeSpanForm, System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal([expected, expected], bound);
    }

    private static string Settings(params (string Name, string Key)[] keys)
        => string.Join(", ", keys.Select(static k => "\"" + k.Name + "\": { \"Hash\": \"" + ApiKeyHasher.ComputeHash(k.Key) + "\" }"));

    private static async Task<HttpStatusCode> StatusAsync(TestApp app, string key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/who");
        request.Headers.Add("X-API-Key", key);
        using var response = await app.Client.SendAsync(request);
        return response.StatusCode;
    }

    private static async Task<string?> AllowedOriginAsync(TestApp app, string origin)
    {
        using var request = new HttpRequestMessage(HttpMethod.Options, "/who");
        request.Headers.Add("Origin", origin);
        request.Headers.Add("Access-Control-Request-Method", "GET");
        using var response = await app.Client.SendAsync(request);
        return response.Headers.TryGetValues("Access-Control-Allow-Origin", out var values) ? values.Single() : null;
    }

    /// <summary>A real appsettings.json on disk, loaded with reloadOnChange.</summary>
    private sealed class SettingsFile : IDisposable
    {
        private readonly string _directory = Directory.CreateTempSubdirectory("aiedge-settings-").FullName;

        public SettingsFile(string keys, params string[] origins) => Write(keys, origins);

        private string Path => System.IO.Path.Combine(_directory, "appsettings.json");

        public void AddTo(WebApplicationBuilder builder) => builder.Configuration.AddJsonFile(Path, optional: false, reloadOnChange: true);

        /// <summary>Rewrites the file and waits until both the authentication and the CORS options announced the change.</summary>
        public async Task RewriteAndWaitAsync(TestApp app, string keys, params string[] origins)
        {
            var keysChanged = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var originsChanged = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            using (app.Services.GetRequiredService<IOptionsMonitor<EdgeAuthenticationOptions>>().OnChange((_, _) => keysChanged.TrySetResult()))
            using (app.Services.GetRequiredService<IOptionsMonitor<Security.EdgeCorsOptions>>().OnChange((_, _) => originsChanged.TrySetResult()))
            {
                Write(keys, origins);
                await Task.WhenAll(keysChanged.Task, originsChanged.Task).WaitAsync(TimeSpan.FromSeconds(30));
            }
        }

        public void Dispose() => Directory.Delete(_directory, recursive: true);

        private void Write(string keys, string[] origins)
            => File.WriteAllText(Path, "{ \"AiEdge\": { \"Authentication\": { \"ApiKeys\": { \"Keys\": { " + keys + " } } }, \"Cors\": { \"AllowedOrigins\": [ "
                + string.Join(", ", origins.Select(static o => "\"" + o + "\"")) + " ] } } }");
    }
}
