using System.Net;
using System.Text.Json;
using AiEdge.Middleware.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Time.Testing;

namespace AiEdge.Middleware.Health.Tests;

public sealed class HealthIntegrationTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    private static Task<TestApp> StartAsync(
        CountingCheck check,
        FakeTimeProvider? clock = null,
        Dictionary<string, string?>? settings = null,
        Action<IAiEdgeBuilder>? edge = null)
        => TestApp.StartEdgeAsync(
            e =>
            {
                e.AddHealth();
                edge?.Invoke(e);
            },
            static app => app.MapGet("/v1/thing", () => "thing"),
            new TestAppOptions
            {
                Configuration = settings,
                Time = clock ?? new FakeTimeProvider(TestClock.Start),
                Services = builder => builder.Services.AddHealthChecks().AddCheck("model", check, tags: ["app"]),
            });

    [Fact]
    public async Task Healthz_Answers200_AndRunsNoCheck()
    {
        var check = new CountingCheck(HealthStatus.Unhealthy);
        await using var app = await StartAsync(check);

        using var response = await app.Client.GetAsync("/healthz").WaitAsync(Wait);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("{\"status\":\"Healthy\"}", await response.Content.ReadAsStringAsync());
        Assert.Equal(0, check.Runs);
    }

    [Theory]
    [InlineData(HealthStatus.Healthy, HttpStatusCode.OK, "Healthy")]
    [InlineData(HealthStatus.Degraded, HttpStatusCode.OK, "Degraded")]
    [InlineData(HealthStatus.Unhealthy, HttpStatusCode.ServiceUnavailable, "Unhealthy")]
    public async Task Readyz_MapsTheWorstStatusToACode_AndAlwaysAnswersJson(HealthStatus status, HttpStatusCode code, string name)
    {
        var check = new CountingCheck(status);
        await using var app = await StartAsync(check);

        using var response = await app.Client.GetAsync("/readyz").WaitAsync(Wait);

        Assert.Equal(code, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.True(response.Headers.CacheControl is { NoStore: true, NoCache: true }, response.Headers.CacheControl?.ToString());
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(name, body.RootElement.GetProperty("status").GetString());
        var entry = Assert.Single(body.RootElement.GetProperty("checks").EnumerateArray());
        Assert.Equal("model", entry.GetProperty("name").GetString());
        Assert.Equal(name, entry.GetProperty("status").GetString());
        Assert.Equal("app", entry.GetProperty("tags")[0].GetString());
        Assert.Equal(code == HttpStatusCode.ServiceUnavailable, response.Headers.RetryAfter is not null);
    }

    [Theory]
    [InlineData(HealthStatus.Degraded, "503", HttpStatusCode.ServiceUnavailable)]
    [InlineData(HealthStatus.Unhealthy, "500", HttpStatusCode.InternalServerError)]
    [InlineData(HealthStatus.Healthy, "204", HttpStatusCode.NoContent)]
    public async Task Readyz_StatusCodesAreConfigurable(HealthStatus status, string configured, HttpStatusCode expected)
    {
        var key = status switch
        {
            HealthStatus.Degraded => "AiEdge:Health:DegradedStatusCode",
            HealthStatus.Unhealthy => "AiEdge:Health:UnhealthyStatusCode",
            _ => "AiEdge:Health:HealthyStatusCode",
        };
        await using var app = await StartAsync(new CountingCheck(status), settings: new() { [key] = configured });

        using var response = await app.Client.GetAsync("/readyz").WaitAsync(Wait);

        Assert.Equal(expected, response.StatusCode);
    }

    [Fact]
    public async Task Probes_AreAnsweredBeforeAuthenticationAndRateLimitingStages()
    {
        await using var app = await StartAsync(new CountingCheck(HealthStatus.Healthy), edge: e =>
        {
            e.AddStage(AiEdgeStage.Authentication, "test.deny", static app => app.Use(static (HttpContext context, RequestDelegate _) =>
            {
                context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                return Task.CompletedTask;
            }));
        });

        using var live = await app.Client.GetAsync("/healthz").WaitAsync(Wait);
        using var ready = await app.Client.GetAsync("/readyz").WaitAsync(Wait);
        using var other = await app.Client.GetAsync("/v1/thing").WaitAsync(Wait);

        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, other.StatusCode);
    }

    [Fact]
    public async Task Readyz_ReusesAResultForCacheDuration()
    {
        var clock = new FakeTimeProvider(TestClock.Start);
        var check = new CountingCheck(HealthStatus.Healthy);
        await using var app = await StartAsync(check, clock);

        for (var i = 0; i < 3; i++)
        {
            (await app.Client.GetAsync("/readyz").WaitAsync(Wait)).Dispose();
        }

        Assert.Equal(1, check.Runs);
        clock.Advance(TimeSpan.FromSeconds(1));
        check.Status = HealthStatus.Unhealthy;
        using var response = await app.Client.GetAsync("/readyz").WaitAsync(Wait);
        Assert.Equal(2, check.Runs);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
    }

    [Fact]
    public async Task Readyz_ConcurrentProbes_ShareOneRunOfTheChecks()
    {
        var check = new CountingCheck(HealthStatus.Healthy) { Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously) };
        await using var app = await StartAsync(check, settings: new() { ["AiEdge:Health:CacheDuration"] = "00:00:00" });

        var probes = new Task<HttpResponseMessage>[20];
        for (var i = 0; i < probes.Length; i++)
        {
            probes[i] = Task.Run(() => app.Client.GetAsync("/readyz"));
        }

        await check.Entered.Task.WaitAsync(Wait);
        check.Gate.SetResult();
        var responses = await Task.WhenAll(probes).WaitAsync(Wait);

        Assert.All(responses, response => Assert.Equal(HttpStatusCode.OK, response.StatusCode));
        Assert.InRange(check.Runs, 1, 20);
        Assert.True(check.MaxConcurrent == 1, "checks must never run concurrently");
        foreach (var response in responses)
        {
            response.Dispose();
        }
    }

    [Fact]
    public async Task Paths_AreConfigurable()
    {
        await using var app = await StartAsync(new CountingCheck(HealthStatus.Healthy), settings: new()
        {
            ["AiEdge:Health:LivenessPath"] = "/live",
            ["AiEdge:Health:ReadinessPath"] = "/ready",
        });

        using var live = await app.Client.GetAsync("/live").WaitAsync(Wait);
        using var ready = await app.Client.GetAsync("/ready").WaitAsync(Wait);
        using var old = await app.Client.GetAsync("/healthz").WaitAsync(Wait);

        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, old.StatusCode);
    }

    [Fact]
    public async Task Head_AnswersStatusWithoutBody_AndOtherMethodsGet405Problem()
    {
        await using var app = await StartAsync(new CountingCheck(HealthStatus.Unhealthy));

        using var head = await app.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/readyz")).WaitAsync(Wait);
        using var post = await app.Client.PostAsync("/healthz", null).WaitAsync(Wait);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, head.StatusCode);
        Assert.Empty(await head.Content.ReadAsByteArrayAsync());
        await ProblemAssert.IsProblemAsync(post, HttpStatusCode.MethodNotAllowed);
        Assert.Contains("GET", post.Content.Headers.Allow);
    }

    [Theory]
    [InlineData("/healthz", HealthStatus.Healthy)]
    [InlineData("/readyz", HealthStatus.Healthy)]
    [InlineData("/readyz", HealthStatus.Degraded)]
    [InlineData("/readyz", HealthStatus.Unhealthy)]
    public async Task Head_OverKestrel_SameStatusAndHeadersAsGet_IncludingContentLength_NoBody(string path, HealthStatus status)
    {
        await using var app = await TestApp.StartKestrelAsync(
            builder =>
            {
                builder.Services.AddSingleton<TimeProvider>(new FakeTimeProvider(TestClock.Start));
                builder.Services.AddHealthChecks().AddCheck("model", new CountingCheck(status), tags: ["app"]);
                builder.Services.AddAiEdgeCore(e => e.AddHealth());
            },
            web => web.UseAiEdge());

        using var get = await app.Client.GetAsync(path).WaitAsync(Wait);
        using var head = await app.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, path)).WaitAsync(Wait);

        Assert.Equal(get.StatusCode, head.StatusCode);
        Assert.Empty(await head.Content.ReadAsByteArrayAsync());
        Assert.Equal((await get.Content.ReadAsByteArrayAsync()).Length, head.Content.Headers.ContentLength);
        Assert.Equal(get.Content.Headers.ContentType, head.Content.Headers.ContentType);
        Assert.Equal(get.Headers.CacheControl, head.Headers.CacheControl);
        Assert.Equal(get.Headers.RetryAfter, head.Headers.RetryAfter);
    }

    [Theory]
    [InlineData("AiEdge:Health:LivenessPath", "healthz", "AiEdge:Health:LivenessPath")]
    [InlineData("AiEdge:Health:ReadinessPath", "/healthz", "AiEdge:Health:ReadinessPath")]
    [InlineData("AiEdge:Health:UnhealthyStatusCode", "99", "AiEdge:Health:UnhealthyStatusCode")]
    [InlineData("AiEdge:Health:CacheDuration", "00:05:00", "AiEdge:Health:CacheDuration")]
    public async Task BadSetting_FailsStartup_NamingTheKey(string key, string value, string named)
    {
        await StartupAssert.FailsAsync(() => StartAsync(new CountingCheck(HealthStatus.Healthy), settings: new() { [key] = value }), named);
    }

    internal sealed class CountingCheck(HealthStatus status) : IHealthCheck
    {
        private int _runs;
        private int _concurrent;
        private int _maxConcurrent;

        public HealthStatus Status { get; set; } = status;

        public int Runs => Volatile.Read(ref _runs);

        public int MaxConcurrent => Volatile.Read(ref _maxConcurrent);

        public TaskCompletionSource? Gate { get; init; }

        public TaskCompletionSource Entered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref _runs);
            var now = Interlocked.Increment(ref _concurrent);
            InterlockedMax(ref _maxConcurrent, now);
            Entered.TrySetResult();
            try
            {
                if (Gate is not null)
                {
                    await Gate.Task;
                }

                return new HealthCheckResult(Status, "model " + Status);
            }
            finally
            {
                Interlocked.Decrement(ref _concurrent);
            }
        }

        private static void InterlockedMax(ref int target, int value)
        {
            int current;
            while ((current = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, current) != current)
            {
            }
        }
    }
}
