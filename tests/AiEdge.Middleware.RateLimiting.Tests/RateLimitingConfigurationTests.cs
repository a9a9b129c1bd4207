using System.Net;
using AiEdge.Middleware.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace AiEdge.Middleware.RateLimiting.Tests;

/// <summary>
/// Configuration mistakes of tiers and plans are named at startup (never reported as a missing tier), durations take
/// both syntaxes, tiers follow a reload of appsettings.json, and dry-run tiers watch without refusing.
/// </summary>
public sealed class RateLimitingConfigurationTests
{
    private const string Tier = "AiEdge:RateLimiting:Tiers:predict:";

    [Theory]
    [InlineData("Burts", "3", "AiEdge:RateLimiting:Tiers:predict:Burts is not a known setting; the nearest valid key is AiEdge:RateLimiting:Tiers:predict:Burst.")]
    [InlineData("Burst", "twenty", "AiEdge:RateLimiting:Tiers:predict:Burst has the value \"twenty\", which is not a whole number.")]
    [InlineData("Partition", "Tenant", "AiEdge:RateLimiting:Tiers:predict:Partition has the value \"Tenant\", which is not one of ClientIp, Caller, ApiKey, Claim, Custom.")]
    [InlineData("Plans:pro:Rat", "5r/s", "AiEdge:RateLimiting:Tiers:predict:Plans:pro:Rat is not a known setting; the nearest valid key is AiEdge:RateLimiting:Tiers:predict:Plans:pro:Rate.")]
    [InlineData("Plans:pro:Burst", "lots", "AiEdge:RateLimiting:Tiers:predict:Plans:pro:Burst has the value \"lots\", which is not a whole number.")]
    [InlineData("TokenBudget:Tokns", "100", "AiEdge:RateLimiting:Tiers:predict:TokenBudget:Tokns is not a known setting; the nearest valid key is AiEdge:RateLimiting:Tiers:predict:TokenBudget:Tokens.")]
    public async Task TierMistake_FailsAtStartup_NamingTheKeyNotAMissingTier(string key, string value, string message)
    {
        var configuration = new Dictionary<string, string?>
        {
            [Tier + "Rate"] = "10r/s",
            [Tier + key] = value,
        };

        var error = await StartupAssert.FailsAsync(() => StartAsync(configuration), message);
        Assert.DoesNotContain("not configured", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnknownTopLevelKey_NamesTheNearestSection()
    {
        var configuration = new Dictionary<string, string?>
        {
            [Tier + "Rate"] = "10r/s",
            ["AiEdge:RateLimting:EmitHeaders"] = "false",
        };

        await StartupAssert.FailsAsync(
            () => StartAsync(configuration),
            "AiEdge:RateLimting is not a known setting; the nearest valid key is AiEdge:RateLimiting.");
    }

    [Fact]
    public async Task SeveralMistakes_AreReportedTogether()
    {
        var configuration = new Dictionary<string, string?>
        {
            [Tier + "Rate"] = "10 per second",
            [Tier + "Burts"] = "3",
            [Tier + "Partition"] = "Tenant",
            ["AiEdge:RateLimiting:ExpirationScanInterval"] = "soon",
        };

        var error = await StartupAssert.FailsAsync(() => StartAsync(configuration), "Tiers:predict:Burts is not a known setting");
        Assert.Contains("AiEdge:RateLimiting:Tiers:predict:Partition has the value \"Tenant\"", error.Message, StringComparison.Ordinal);
        Assert.Contains("AiEdge:RateLimiting:ExpirationScanInterval has the value \"soon\", which is not a duration such as 00:05:00, 5m, 30s, 250ms or 1h.", error.Message, StringComparison.Ordinal);
        Assert.Contains("AiEdge:RateLimiting:Tiers:predict:Rate must look like \"10r/s\"", error.Message, StringComparison.Ordinal);
        Assert.Equal(4, error.Failures.Count());
    }

    [Theory]
    [InlineData("00:00:30", 30)]
    [InlineData("30s", 30)]
    [InlineData("5m", 300)]
    [InlineData("1h", 3600)]
    [InlineData("250ms", 0.25)]
    public async Task ExpirationScanInterval_TakesBothDurationSyntaxes(string value, double seconds)
    {
        await using var app = await StartAsync(new Dictionary<string, string?>
        {
            [Tier + "Rate"] = "10r/s",
            ["AiEdge:RateLimiting:ExpirationScanInterval"] = value,
        });

        Assert.Equal(TimeSpan.FromSeconds(seconds), app.Services.GetRequiredService<IOptions<RateLimitingOptions>>().Value.ExpirationScanInterval);
    }

    [Theory]
    [InlineData("1m")]
    [InlineData("00:01:00")]
    [InlineData("60s")]
    public async Task TokenWindows_TakeBothDurationSyntaxes(string window)
    {
        await using var app = await StartAsync(new Dictionary<string, string?>
        {
            [Tier + "TokenBudget:Tokens"] = "100",
            [Tier + "TokenBudget:Window"] = window,
            [Tier + "Plans:pro:Tokens"] = "200",
            [Tier + "Plans:pro:TokenWindow"] = window,
        });

        using var response = await app.SendAsync("/limited");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("\"predict\";q=100;qu=\"tokens\";w=60", response.Headers.GetValues("RateLimit-Policy").Single());
    }

    [Fact]
    public async Task Reload_AppliesANewRate_KeepsTheCountersOfUnchangedTiers()
    {
        using var file = new SettingsFile("""{ "AiEdge": { "RateLimiting": { "Tiers": { "kept": { "Rate": "1r/m" }, "changed": { "Rate": "1r/m" } } } } }""");
        var time = new FakeTimeProvider(TestClock.Start);
        await using var app = await TestApp.StartEdgeAsync(
            static edge => edge.AddRateLimiting(),
            static app =>
            {
                app.MapGet("/kept", static () => "ok").WithRateLimitTier("kept");
                app.MapGet("/changed", static () => "ok").WithRateLimitTier("changed");
            },
            new TestAppOptions { Time = time, Services = file.AddTo });

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.TooManyRequests], await app.SendManyAsync("/kept", 2));
        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.TooManyRequests], await app.SendManyAsync("/changed", 2));

        await file.RewriteAndWaitAsync<RateLimitingOptions>(app, """{ "AiEdge": { "RateLimiting": { "Tiers": { "kept": { "Rate": "1r/m" }, "changed": { "Rate": "10r/s", "Burst": 4 } } } } }""");

        // The changed tier decides with its new rule (a fresh bucket); the unchanged one still remembers its request.
        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests], await app.SendManyAsync("/changed", 6));
        Assert.Equal([HttpStatusCode.TooManyRequests], await app.SendManyAsync("/kept", 1));
    }

    [Fact]
    public async Task Reload_WithAMistake_KeepsThePreviousTiers_AndLogsWhy()
    {
        using var file = new SettingsFile("""{ "AiEdge": { "RateLimiting": { "Tiers": { "predict": { "Rate": "1r/m" } } } } }""");
        var logs = new EventWaiter(1970);
        await using var app = await TestApp.StartEdgeAsync(
            static edge => edge.AddRateLimiting(),
            static app => app.MapGet("/limited", static () => "ok").WithRateLimitTier("predict"),
            new TestAppOptions
            {
                Time = new FakeTimeProvider(TestClock.Start),
                Services = builder =>
                {
                    file.AddTo(builder);
                    builder.Logging.AddProvider(logs);
                },
            });

        file.Write("""{ "AiEdge": { "RateLimiting": { "Tiers": { "predict": { "Rate": "1r/m", "Burts": 5 } } } } }""");
        var rejected = await logs.Next.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(LogLevel.Error, rejected.Level);
        Assert.Contains("AiEdge:RateLimiting:Tiers:predict:Burts is not a known setting", rejected.Message, StringComparison.Ordinal);
        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.TooManyRequests], await app.SendManyAsync("/limited", 2));
    }

    [Fact]
    public async Task DryRun_PassesTheRequestOverTheLimit_CountsLogsAndAdvertisesIt()
    {
        var logs = new LogCapture();
        using var metrics = new MetricsCollector();
        await using var app = await TestApp.StartEdgeAsync(
            static edge => edge.AddAccessLog().AddRateLimiting(),
            static app => app.MapGet("/limited", static () => "ok").WithRateLimitTier("watched"),
            new TestAppOptions
            {
                Time = new FakeTimeProvider(TestClock.Start),
                Configuration = new Dictionary<string, string?>
                {
                    ["AiEdge:RateLimiting:Tiers:watched:Rate"] = "1r/m",
                    ["AiEdge:RateLimiting:Tiers:watched:DryRun"] = "true",
                },
                Services = builder =>
                {
                    builder.Services.AddSingleton(metrics.MeterFactory);
                    builder.Logging.AddProvider(logs).SetMinimumLevel(LogLevel.Information);
                },
            });

        using var first = await app.SendAsync("/limited");
        using var second = await app.SendAsync("/limited");

        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal("\"watched\";q=1;w=60;aiedge-dry-run", second.Headers.GetValues("RateLimit-Policy").Single());
        Assert.StartsWith("\"watched\";r=0;t=", second.Headers.GetValues("RateLimit").Single(), StringComparison.Ordinal);
        Assert.EndsWith(";aiedge-dry-run", second.Headers.GetValues("RateLimit").Single(), StringComparison.Ordinal);
        Assert.Contains(metrics.Measurements, static m => m.Instrument == "aiedge.ratelimit.requests" && Equals(m.Tags[AiEdgeDiagnostics.Tags.RateLimitDecision], "dry_run"));
        Assert.Single(logs.WithId(1103));
        var accessLog = logs.WithId(1900);
        Assert.Equal(["admitted", "dry_run"], accessLog.Select(static e => (string?)e.Value("RateLimitDecision")));
    }

    private static Task<TestApp> StartAsync(IDictionary<string, string?> configuration)
        => RateLimitHost.StartAsync(new FakeTimeProvider(TestClock.Start), null, static a => a.MapGet("/limited", static () => "ok").WithRateLimitTier("predict"), configuration);
}

/// <summary>A real appsettings file on disk, loaded with reloadOnChange.</summary>
internal sealed class SettingsFile : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("aiedge-settings-").FullName;

    public SettingsFile(string json) => Write(json);

    public string Path => System.IO.Path.Combine(_directory, "appsettings.json");

    public void AddTo(WebApplicationBuilder builder) => builder.Configuration.AddJsonFile(Path, optional: false, reloadOnChange: true);

    public void Write(string json) => File.WriteAllText(Path, json);

    /// <summary>Rewrites the file and waits until <typeparamref name="TOptions"/>' monitor announced the change.</summary>
    public async Task RewriteAndWaitAsync<TOptions>(TestApp app, string json)
    {
        var changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using (app.Services.GetRequiredService<IOptionsMonitor<TOptions>>().OnChange((_, _) => changed.TrySetResult()))
        {
            Write(json);
            await changed.Task.WaitAsync(TimeSpan.FromSeconds(30));
        }
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}

/// <summary>Completes <see cref="Next"/> with the first event of one id: a wait on the event itself, not on time.</summary>
internal sealed class EventWaiter(int eventId) : ILoggerProvider
{
    private readonly TaskCompletionSource<LogEntry> _next = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task<LogEntry> Next => _next.Task;

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, this);

    public void Dispose()
    {
    }

    private sealed class Logger(string category, EventWaiter waiter) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (eventId.Id == waiter._eventId)
            {
                waiter._next.TrySetResult(new LogEntry(category, logLevel, eventId, formatter(state, exception), exception));
            }
        }
    }

    private readonly int _eventId = eventId;
}
