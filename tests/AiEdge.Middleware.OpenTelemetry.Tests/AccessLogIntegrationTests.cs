using System.Diagnostics;
using System.Net;
using System.Text;
using AiEdge.Middleware.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace AiEdge.Middleware.OpenTelemetry.Tests;

/// <summary>The access log through a real host: one event per request with every field.</summary>
public sealed class AccessLogIntegrationTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private sealed class Host(TestApp app, CapturingLoggerProvider logs, FakeTimeProvider time) : IAsyncDisposable
    {
        public TestApp App { get; } = app;

        public CapturingLoggerProvider Logs { get; } = logs;

        public FakeTimeProvider Time { get; } = time;

        public IReadOnlyList<CapturingLoggerProvider.Entry> AccessLog => Logs.For(AccessLogOptions.Category);

        public async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, params (string Name, string Value)[] headers)
        {
            var request = new HttpRequestMessage(method, path);
            foreach (var (name, value) in headers)
            {
                request.Headers.TryAddWithoutValidation(name, value);
            }

            var response = await App.Client.SendAsync(request).WaitAsync(Timeout);
            _ = await response.Content.ReadAsByteArrayAsync().WaitAsync(Timeout);
            return response;
        }

        public ValueTask DisposeAsync() => App.DisposeAsync();
    }

    private static async Task<Host> StartAsync(Action<AccessLogOptions>? configure = null, IDictionary<string, string?>? configuration = null, bool kestrel = false)
    {
        var logs = new CapturingLoggerProvider();
        var time = new FakeTimeProvider(TestClock.Start);
        Func<Action<WebApplicationBuilder>, Action<WebApplication>, IDictionary<string, string?>?, Task<TestApp>> start = kestrel ? TestApp.StartKestrelAsync : TestApp.StartAsync;
        var app = await start(
            builder =>
            {
                builder.Logging.AddProvider(logs);
                builder.Logging.AddFilter(AccessLogOptions.Category, LogLevel.Information);
                builder.Services.AddSingleton<TimeProvider>(time);
                builder.Services.AddAiEdgeCore(edge => edge.AddForwardedHeaders().AddAccessLog(configure));
            },
            web =>
            {
                web.Use(static (context, next) =>
                {
                    context.Connection.RemoteIpAddress = IPAddress.Loopback;
                    return next(context);
                });
                web.UseAiEdge();
                web.MapPost("/v1/predict/{model}", static async (HttpContext context) =>
                {
                    // What the concerns record: any stage, Core's or not, writes its decisions the same way.
                    var decisions = context.Features.Get<AiEdgeDecisionsFeature>()!;
                    decisions.Set(AiEdgeDiagnostics.Tags.Tier, "predict");
                    decisions.Set(AiEdgeDiagnostics.Tags.RateLimitDecision, "admitted");
                    decisions.Set(AiEdgeDiagnostics.Tags.CacheStatus, "miss");
                    decisions.Add(AiEdgeDecisionsFeature.BackendSeconds, 0.25);
                    ((FakeTimeProvider)context.RequestServices.GetRequiredService<TimeProvider>()).Advance(TimeSpan.FromMilliseconds(1500));
                    context.Response.Headers["X-Trace"] = Activity.Current?.TraceId.ToHexString() ?? string.Empty;
                    await context.Response.WriteAsync("hello");
                });
                web.MapGet("/stream", static async (HttpContext context) =>
                {
                    var bytes = Encoding.UTF8.GetBytes("0123456789");
                    await context.Response.Body.WriteAsync(bytes);
                    await context.Response.Body.WriteAsync(bytes.AsMemory(0, 3));
                    await context.Response.BodyWriter.WriteAsync(bytes.AsMemory(0, 7));
                    var span = context.Response.BodyWriter.GetSpan(4);
                    "abcd"u8.CopyTo(span);
                    context.Response.BodyWriter.Advance(4);
                });
                web.MapGet("/boom", static string () => throw new InvalidOperationException("boom"));
                web.MapGet("/healthz", static () => "ok");
                web.MapGet("/bytes/{count:int}", static async (HttpContext context, int count) =>
                {
                    var decisions = context.Features.Get<AiEdgeDecisionsFeature>();
                    decisions?.Set(AiEdgeDiagnostics.Tags.Tier, "t" + count);
                    decisions?.Set(AiEdgeDiagnostics.Tags.RateLimitDecision, "admitted");
                    await Task.Yield();
                    await context.Response.BodyWriter.WriteAsync(new byte[count]);
                    await context.Response.Body.WriteAsync(new byte[count]);
                });
            },
            configuration);
        return new Host(app, logs, time);
    }

    [Fact]
    public async Task Request_LogsOneEventWithEveryField()
    {
        using var listener = new ActivityListener
        {
            ShouldListenTo = static s => s.Name == "Microsoft.AspNetCore",
            Sample = static (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
        };
        ActivitySource.AddActivityListener(listener);
        await using var host = await StartAsync();

        using var response = await host.SendAsync(HttpMethod.Post, "/v1/predict/toy?x=1", ("X-Forwarded-For", "203.0.113.7"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var entry = Assert.Single(host.AccessLog);
        Assert.Equal(LogLevel.Information, entry.Level);
        Assert.Equal(1900, entry.EventId.Id);
        Assert.Equal("Request", entry.EventId.Name);
        var f = entry.Fields;
        Assert.Equal(IPAddress.Parse("203.0.113.7"), f["ClientIp"]);
        Assert.Equal("POST", f["Method"]);
        Assert.Equal("/v1/predict/{model}", f["Route"]);
        Assert.Equal(200, f["StatusCode"]);
        Assert.Equal(5L, f["BytesSent"]);
        Assert.Equal(1500d, f["DurationMs"]);
        Assert.Equal(250d, (double)f["BackendMs"]!, 6);
        Assert.Equal("miss", f["CacheStatus"]);
        Assert.Equal("admitted", f["RateLimitDecision"]);
        Assert.Equal("predict", f["Tier"]);
        var trace = Assert.Single(response.Headers.GetValues("X-Trace"));
        Assert.Equal(32, trace.Length);
        Assert.Equal(trace, f["TraceId"]!.ToString());
        Assert.Equal($"203.0.113.7 \"POST /v1/predict/{{model}}\" 200 5 rt=1500 ut=250 cache=miss limit=admitted tier=predict trace={trace}", entry.Message);
    }

    [Fact]
    public async Task StreamAndPipeWrites_AreCounted_AndPooledStateDoesNotLeak()
    {
        await using var host = await StartAsync();

        using (await host.SendAsync(HttpMethod.Post, "/v1/predict/toy"))
        {
        }

        using (await host.SendAsync(HttpMethod.Get, "/stream"))
        {
        }

        var entries = host.AccessLog;
        Assert.Equal(2, entries.Count);
        var stream = entries[1].Fields;
        Assert.Equal("/stream", stream["Route"]);
        Assert.Equal(24L, stream["BytesSent"]);
        Assert.Equal("-", stream["CacheStatus"]);
        Assert.Equal("-", stream["RateLimitDecision"]);
        Assert.Equal("-", stream["Tier"]);
        Assert.Equal(-1d, stream["BackendMs"]);
        Assert.Equal(IPAddress.Loopback, stream["ClientIp"]);
    }

    [Fact]
    public async Task UnmatchedAndFailingRequests_AreLogged()
    {
        await using var host = await StartAsync();

        using (var missing = await host.SendAsync(HttpMethod.Get, "/nope"))
        {
            Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        }

        using (var boom = await host.SendAsync(HttpMethod.Get, "/boom"))
        {
            Assert.Equal(HttpStatusCode.InternalServerError, boom.StatusCode);
        }

        var entries = host.AccessLog;
        Assert.Equal(2, entries.Count);
        Assert.Equal(404, entries[0].Fields["StatusCode"]);
        Assert.Equal("-", entries[0].Fields["Route"]);
        Assert.Equal(500, entries[1].Fields["StatusCode"]);
        Assert.Equal("/boom", entries[1].Fields["Route"]);
        Assert.True((long)entries[1].Fields["BytesSent"]! > 0, "the problem body is counted");
    }

    [Fact]
    public async Task ExcludedPaths_AreNotLogged()
    {
        await using var host = await StartAsync(configuration: new Dictionary<string, string?> { ["AiEdge:AccessLog:ExcludedPaths:0"] = "/healthz" });

        using (await host.SendAsync(HttpMethod.Get, "/healthz"))
        {
        }

        using (await host.SendAsync(HttpMethod.Get, "/stream"))
        {
        }

        var entry = Assert.Single(host.AccessLog);
        Assert.Equal("/stream", entry.Fields["Route"]);
    }

    [Fact]
    public async Task Disabled_LogsNothing()
    {
        await using var host = await StartAsync(static o => o.Enabled = false);
        using (await host.SendAsync(HttpMethod.Get, "/stream"))
        {
        }

        Assert.Empty(host.AccessLog);
    }

    [Fact]
    public async Task Kestrel_ConcurrentRequests_EachLoggedWithItsOwnFields()
    {
        await using var host = await StartAsync(kestrel: true);

        var requests = new List<Task>();
        for (var i = 1; i <= 40; i++)
        {
            var count = i * 37;
            requests.Add(Task.Run(async () =>
            {
                using var response = await host.SendAsync(HttpMethod.Get, $"/bytes/{count}");
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            }));
        }

        await Task.WhenAll(requests).WaitAsync(Timeout);

        var entries = host.AccessLog;
        Assert.Equal(40, entries.Count);
        foreach (var entry in entries)
        {
            // Each request wrote its count twice (pipe writer, then stream) and recorded tier "t{count}".
            var bytes = (long)entry.Fields["BytesSent"]!;
            Assert.Equal("t" + (bytes / 2), entry.Fields["Tier"]);
            Assert.Equal("/bytes/{count:int}", entry.Fields["Route"]);
            Assert.Equal(IPAddress.Loopback, entry.Fields["ClientIp"]);
        }

        Assert.Equal(40, entries.Select(e => e.Fields["Tier"]).Distinct().Count());
    }

    [Fact]
    public async Task BadExcludedPath_FailsAtStartup()
    {
        await StartupAssert.FailsAsync(
            () => StartAsync(configuration: new Dictionary<string, string?> { ["AiEdge:AccessLog:ExcludedPaths:0"] = "healthz" }),
            "AiEdge:AccessLog:ExcludedPaths:0 must be a request path");
    }
}
