using System.Diagnostics.Metrics;
using System.Net;
using System.Security.Cryptography;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Threading.RateLimiting;
using AiEdge.Middleware.Testing;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace AiEdge.Middleware.Health.Tests;

/// <summary>The probes as routed endpoints: route conflicts, http.route, and the application's own middleware.</summary>
public sealed class HealthEndpointIntegrationTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    private static Task<TestApp> StartAsync(
        Action<WebApplication> configureApp,
        Dictionary<string, string?>? settings = null,
        Action<WebApplicationBuilder>? services = null,
        HealthStatus status = HealthStatus.Healthy)
        => TestApp.StartAsync(
            builder =>
            {
                builder.Services.AddSingleton<TimeProvider>(new FakeTimeProvider(TestClock.Start));
                builder.Services.AddHealthChecks().AddCheck("model", () => new HealthCheckResult(status, "model " + status), tags: ["app"]);
                builder.Services.AddAiEdgeCore(e => e.AddHealth());
                services?.Invoke(builder);
            },
            configureApp,
            settings);

    [Theory]
    [InlineData("/healthz", "AiEdge:Health:LivenessPath")]
    [InlineData("/readyz", "AiEdge:Health:ReadinessPath")]
    [InlineData("/HEALTHZ/", "AiEdge:Health:LivenessPath")]
    public async Task AppMapHealthChecks_OnAProbePath_FailsStartup_NamingThePathAndTheSetting(string path, string setting)
    {
        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => StartAsync(app =>
        {
            app.UseAiEdge();
            app.MapHealthChecks(path);
        }));

        Assert.Contains(path.TrimEnd('/'), failure.Message, StringComparison.Ordinal);
        Assert.Contains(setting, failure.Message, StringComparison.Ordinal);
        Assert.Contains("AiEdge:Health:MapEndpoints", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AppMapGet_OnTheReadinessPath_InARouteGroup_FailsStartup()
    {
        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => StartAsync(app =>
        {
            app.UseAiEdge();
            app.MapGroup("/").MapGet("/readyz", () => "mine");
        }));

        Assert.Contains("/readyz", failure.Message, StringComparison.Ordinal);
        Assert.Contains("AiEdge:Health:ReadinessPath", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AppMapHealthChecks_OnAProbePath_WithMapEndpointsFalse_TheAppOwnsThePath()
    {
        await using var app = await StartAsync(
            app =>
            {
                app.UseAiEdge();
                app.MapHealthChecks("/healthz");
            },
            new() { ["AiEdge:Health:MapEndpoints"] = "false" });

        using var live = await app.Client.GetAsync("/healthz").WaitAsync(Wait);
        using var ready = await app.Client.GetAsync("/readyz").WaitAsync(Wait);

        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        Assert.Equal("Healthy", await live.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.NotFound, ready.StatusCode);
    }

    [Fact]
    public async Task MapAiEdgeHealth_WithMapEndpointsFalse_MapsTheProbesWhereTheAppChooses()
    {
        await using var app = await StartAsync(
            app =>
            {
                app.UseAiEdge();
                app.MapGroup("/internal").MapAiEdgeHealth();
                app.MapHealthChecks("/healthz");
            },
            new() { ["AiEdge:Health:MapEndpoints"] = "false" });

        using var live = await app.Client.GetAsync("/internal/healthz").WaitAsync(Wait);
        using var ready = await app.Client.GetAsync("/internal/readyz").WaitAsync(Wait);
        using var own = await app.Client.GetAsync("/healthz").WaitAsync(Wait);

        Assert.Equal("{\"status\":\"Healthy\"}", await live.Content.ReadAsStringAsync());
        using var body = JsonDocument.Parse(await ready.Content.ReadAsStringAsync());
        Assert.Equal("model", body.RootElement.GetProperty("checks")[0].GetProperty("name").GetString());
        Assert.Equal("Healthy", await own.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task MapAiEdgeHealth_WhenUseAiEdgeMapsThemToo_FailsStartup_NamingTheSetting()
    {
        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => StartAsync(app =>
        {
            app.UseAiEdge();
            app.MapAiEdgeHealth();
        }));

        Assert.Contains("AiEdge:Health:MapEndpoints", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Readyz_ListsTheAppsOwnHealthChecks_BesideEveryOtherEntry()
    {
        await using var app = await StartAsync(
            static app => app.UseAiEdge(),
            services: static builder => builder.Services.AddHealthChecks().AddCheck("queue", static () => HealthCheckResult.Degraded("backlog")),
            status: HealthStatus.Healthy);

        using var response = await app.Client.GetAsync("/readyz").WaitAsync(Wait);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("Degraded", body.RootElement.GetProperty("status").GetString());
        var names = new List<string?>();
        foreach (var entry in body.RootElement.GetProperty("checks").EnumerateArray())
        {
            names.Add(entry.GetProperty("name").GetString());
        }

        Assert.Equal(["model", "queue"], names);
    }

    [Fact]
    public async Task Probes_CarryTheirPathAsHttpRoute_OnTheServerRequestDurationMetric()
    {
        await using var app = await StartAsync(static app =>
        {
            app.UseAiEdge();
            app.MapGet("/v1/things/{id}", static (string id) => id);
        });
        var routes = new List<string?>();
        var seen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var meters = app.Services.GetRequiredService<IMeterFactory>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (ReferenceEquals(instrument.Meter.Scope, meters) && instrument.Meter.Name == "Microsoft.AspNetCore.Hosting" && instrument.Name == "http.server.request.duration")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<double>((_, _, tags, _) =>
        {
            string? route = null;
            foreach (var tag in tags)
            {
                if (tag.Key == "http.route")
                {
                    route = tag.Value as string;
                }
            }

            lock (routes)
            {
                routes.Add(route);
                if (routes.Count == 3)
                {
                    seen.TrySetResult();
                }
            }
        });
        listener.Start();

        (await app.Client.GetAsync("/healthz").WaitAsync(Wait)).Dispose();
        (await app.Client.GetAsync("/readyz").WaitAsync(Wait)).Dispose();
        (await app.Client.GetAsync("/v1/things/7").WaitAsync(Wait)).Dispose();
        await seen.Task.WaitAsync(Wait);

        lock (routes)
        {
            Assert.Equal(["/healthz", "/readyz", "/v1/things/{id}"], routes);
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Probes_PassTheAppsFallbackAuthorization_GlobalRateLimiter_AndOutputCache_BeforeOrAfterUseAiEdge(bool appMiddlewareFirst)
    {
        var status = HealthStatus.Healthy;
        await using var app = await TestApp.StartAsync(
            builder =>
            {
                builder.Services.AddSingleton<TimeProvider>(new FakeTimeProvider(TestClock.Start));
                builder.Services.AddHealthChecks().AddCheck("model", () => new HealthCheckResult(status));
                builder.Services.AddAiEdgeCore(static e => e.AddHealth());
                builder.Services.AddAuthentication(DenyAllHandler.Name).AddScheme<AuthenticationSchemeOptions, DenyAllHandler>(DenyAllHandler.Name, null);
                builder.Services.AddAuthorization(static o => o.FallbackPolicy = new AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build());
                builder.Services.AddRateLimiter(static o =>
                {
                    o.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
                    o.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(static _ => RateLimitPartition.GetFixedWindowLimiter("all", static _ => new FixedWindowRateLimiterOptions
                    {
                        PermitLimit = 1,
                        Window = TimeSpan.FromHours(1),
                    }));
                });
                builder.Services.AddOutputCache(static o => o.AddBasePolicy(static policy => policy.Cache()));
            },
            app =>
            {
                if (appMiddlewareFirst)
                {
                    app.UseRouting();
                    app.UseAuthentication();
                    app.UseAuthorization();
                    app.UseRateLimiter();
                    app.UseOutputCache();
                    app.UseAiEdge();
                }
                else
                {
                    app.UseAiEdge();
                    app.UseAuthentication();
                    app.UseAuthorization();
                    app.UseRateLimiter();
                    app.UseOutputCache();
                }

                app.MapGet("/v1/secret", static () => "secret");
                app.MapGet("/v1/open", static () => "open").AllowAnonymous();
            },
            new Dictionary<string, string?> { ["AiEdge:Health:CacheDuration"] = "00:00:00" });

        using var secret = await app.Client.GetAsync("/v1/secret").WaitAsync(Wait);
        Assert.Equal(HttpStatusCode.Unauthorized, secret.StatusCode);
        (await app.Client.GetAsync("/v1/open").WaitAsync(Wait)).Dispose();
        using var limited = await app.Client.GetAsync("/v1/open").WaitAsync(Wait);
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);

        for (var i = 0; i < 5; i++)
        {
            using var live = await app.Client.GetAsync("/healthz").WaitAsync(Wait);
            using var ready = await app.Client.GetAsync("/readyz").WaitAsync(Wait);
            Assert.Equal(HttpStatusCode.OK, live.StatusCode);
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        }

        status = HealthStatus.Unhealthy;
        using var notReady = await app.Client.GetAsync("/readyz").WaitAsync(Wait);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, notReady.StatusCode);
    }

    [Fact]
    public async Task Probes_PassAiEdgeAuthenticationAndRateLimiting_EvenWithTheirMetadataOnTheProbes()
    {
        await using var app = await TestApp.StartAsync(
            static builder =>
            {
                builder.Services.AddSingleton<TimeProvider>(new FakeTimeProvider(TestClock.Start));
                builder.Services.AddAiEdgeCore(static e => e.AddHealth().AddEdgeAuthentication().AddRateLimiting());
            },
            static app =>
            {
                app.UseAiEdge();
                app.MapAiEdgeHealth().WithRateLimitTier("strict").RequireAuthenticatedCaller();
                app.MapGet("/v1/open", static () => "open").AllowAnonymous().WithRateLimitTier("strict");
                app.MapGet("/v1/secret", static () => "secret");
            },
            new Dictionary<string, string?>
            {
                ["AiEdge:Health:MapEndpoints"] = "false",
                ["AiEdge:Authentication:RequireAuthenticatedCaller"] = "true",
                ["AiEdge:Authentication:ApiKeys:Keys:alpha:Hash"] = Convert.ToHexString(SHA256.HashData("alpha-key"u8)),
                ["AiEdge:RateLimiting:Tiers:strict:Rate"] = "1r/m",
            });

        using var secret = await app.Client.GetAsync("/v1/secret").WaitAsync(Wait);
        await ProblemAssert.IsProblemAsync(secret, HttpStatusCode.Unauthorized);
        (await app.Client.GetAsync("/v1/open").WaitAsync(Wait)).Dispose();
        using var limited = await app.Client.GetAsync("/v1/open").WaitAsync(Wait);
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);

        for (var i = 0; i < 5; i++)
        {
            using var live = await app.Client.GetAsync("/healthz").WaitAsync(Wait);
            using var ready = await app.Client.GetAsync("/readyz").WaitAsync(Wait);
            Assert.Equal(HttpStatusCode.OK, live.StatusCode);
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
            Assert.False(live.Headers.Contains("RateLimit"));
        }
    }

    /// <summary>An authentication scheme that never authenticates anyone; a challenge answers 401.</summary>
    private sealed class DenyAllHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
        : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
    {
        public const string Name = "deny";

        protected override Task<AuthenticateResult> HandleAuthenticateAsync() => Task.FromResult(AuthenticateResult.NoResult());
    }
}
