using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Net;
using System.Text.Json;
using AiEdge.Middleware.Concurrency.Internal;
using AiEdge.Middleware.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace AiEdge.Middleware.Concurrency.Tests;

/// <summary>Streams hold their slot to their end; decisions reach metrics, the access log's feature and <c>/readyz</c>.</summary>
public sealed class ConcurrencyStreamingAndReportingTests
{
    [Fact]
    public async Task StreamedResponse_HoldsItsSlotUntilTheStreamEnds()
    {
        var valve = new Valve();
        await using var app = await ConcurrencyHost.StartAsync(
            TimeProvider.System,
            o => o.AddTier("generate", t => t.Limit = 1),
            a => a.MapGet("/stream", async (HttpContext c) =>
            {
                c.Response.ContentType = "text/event-stream";
                await c.Response.WriteAsync("data: first\n\n", c.RequestAborted);
                await c.Response.Body.FlushAsync(c.RequestAborted);
                await valve.PassAsync(c.RequestAborted);
                await c.Response.WriteAsync("data: [DONE]\n\n", c.RequestAborted);
            }).WithConcurrencyTier("generate"),
            kestrel: true);

        using var stream = await app.SendAsync("/stream");
        var reader = new StreamReader(await stream.Content.ReadAsStreamAsync());
        Assert.Equal("data: first", await reader.ReadLineAsync());
        Assert.Equal(1, app.Tier("generate").Totals().InFlight);
        using (var refused = await app.SendAsync("/stream"))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        }

        valve.Release();
        var rest = await reader.ReadToEndAsync();
        Assert.Contains("[DONE]", rest, StringComparison.Ordinal);
        await app.InFlightAsync("generate", 0);
    }

    [Fact]
    public async Task StreamedResponse_WhoseClientGoesAway_GivesItsSlotBackAtOnce()
    {
        var ended = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var app = await ConcurrencyHost.StartAsync(
            TimeProvider.System,
            o => o.AddTier("generate", t => t.Limit = 1),
            a => a.MapGet("/stream", async (HttpContext c) =>
            {
                c.Response.ContentType = "text/event-stream";
                await c.Response.WriteAsync("data: first\n\n", c.RequestAborted);
                await c.Response.Body.FlushAsync(c.RequestAborted);
                try
                {
                    await Task.Delay(Timeout.InfiniteTimeSpan, c.RequestAborted);
                }
                finally
                {
                    ended.TrySetResult();
                }
            }).WithConcurrencyTier("generate"),
            kestrel: true);

        var response = await app.SendAsync("/stream");
        var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        Assert.Equal("data: first", await reader.ReadLineAsync());
        Assert.Equal(1, app.Tier("generate").Totals().InFlight);

        response.Dispose();
        await ended.Task.WaitAsync(TimeSpan.FromSeconds(20));
        await app.InFlightAsync("generate", 0);
        var store = app.Services.GetRequiredService<IConcurrencyStore>();
        Assert.Equal(0, await store.CountAsync(app.Tier("generate").Shared!.Key, CancellationToken.None));
    }

    [Fact]
    public async Task Decisions_ReachTheMetricsAndTheAccessLogFeature()
    {
        using var collector = new MetricsCollector();
        var recorded = new ConcurrentQueue<(string? Tier, string? Decision, bool Waited)>();
        var valve = new Valve();
        var time = new FakeTimeProvider(TestClock.Start);
        await using var app = await TestApp.StartEdgeAsync(
            edge => edge.AddConcurrency(o => o.AddTier("generate", t => { t.Limit = 1; t.QueueLimit = 1; t.QueueTimeout = TimeSpan.FromSeconds(5); })),
            a => a.MapGet("/gen", (HttpContext c) => valve.PassAsync(c.RequestAborted)).WithConcurrencyTier("generate"),
            new TestAppOptions
            {
                Time = time,
                Services = b => b.Services.AddSingleton<IMeterFactory>(collector.MeterFactory),
                Before = a => a.Use(async (context, next) =>
                {
                    var decisions = new AiEdgeDecisionsFeature();
                    context.Features.Set(decisions);
                    await next(context);
                    recorded.Enqueue((decisions.Get(ConcurrencyMetrics.TierTag), decisions.Get(ConcurrencyMetrics.DecisionTag), decisions.TryGetTotal(ConcurrencyMetrics.QueueWait, out _)));
                }),
            });

        var holder = app.SendAsync("/gen");
        await app.InFlightAsync("generate", 1);
        var queued = app.SendAsync("/gen");
        await app.QueuedAsync("generate", 1);
        using (var refused = await app.SendAsync("/gen")) { Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode); }
        collector.Observe();
        valve.Release(2);
        (await holder).Dispose();
        (await queued).Dispose();
        await app.InFlightAsync("generate", 0);
        await ConcurrencyHost.UntilAsync(() => recorded.Count == 3, "three requests were recorded");

        Assert.Contains(("generate", "rejected", false), recorded);
        Assert.Contains(("generate", "admitted", false), recorded);
        Assert.Contains(("generate", "queued", true), recorded);

        var measurements = collector.Measurements;
        Assert.Contains(measurements, m => m.Instrument == "aiedge.concurrency.requests" && Equals(m.Tags.GetValueOrDefault(AiEdgeDiagnostics.Tags.Reason), "queue_full"));
        Assert.Contains(measurements, m => m.Instrument == "aiedge.rejections" && Equals(m.Tags.GetValueOrDefault(AiEdgeDiagnostics.Tags.Concern), "concurrency"));
        Assert.Contains(measurements, m => m.Instrument == "aiedge.concurrency.queue_wait" && Equals(m.Tags.GetValueOrDefault(ConcurrencyMetrics.DecisionTag), "queued"));
        Assert.Equal(0, Sum(measurements, "aiedge.concurrency.in_flight"));
        Assert.Equal(0, Sum(measurements, "aiedge.concurrency.queued"));
        Assert.Contains(measurements, m => m.Instrument == "aiedge.concurrency.limit" && Equals(m.Tags.GetValueOrDefault(ConcurrencyMetrics.BoundTag), "current") && m.Value == 1);
    }

    [Fact]
    public async Task AccessLogLine_ShowsTheTierTheDecisionTheTimeQueuedAndTheReason()
    {
        using var logs = new LogCapture();
        var valve = new Valve();
        var time = new FakeTimeProvider(TestClock.Start);
        await using var app = await TestApp.StartEdgeAsync(
            edge => edge.AddAccessLog().AddConcurrency(o => o.AddTier("generate", t => { t.Limit = 1; t.QueueLimit = 1; t.QueueTimeout = TimeSpan.FromSeconds(5); })),
            a => a.MapGet("/gen", (HttpContext c) => valve.PassAsync(c.RequestAborted)).WithConcurrencyTier("generate"),
            new TestAppOptions
            {
                Time = time,
                Services = b =>
                {
                    b.Logging.AddProvider(logs);
                    b.Logging.AddFilter(AccessLogOptions.Category, LogLevel.Information);
                },
            });

        var holder = app.SendAsync("/gen");
        await app.InFlightAsync("generate", 1);
        var queued = app.SendAsync("/gen");
        await app.QueuedAsync("generate", 1);
        using (var refused = await app.SendAsync("/gen")) { Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode); }
        time.Advance(TimeSpan.FromMilliseconds(250));
        valve.Release(2);
        (await holder).Dispose();
        (await queued).Dispose();
        await ConcurrencyHost.UntilAsync(() => logs.WithId(1900).Count == 3, "three access-log lines");

        var lines = logs.WithId(1900).ConvertAll(static l => l.Message);
        Assert.Contains(lines, static l => l.EndsWith(" conc_tier=generate conc=admitted", StringComparison.Ordinal));
        Assert.Contains(lines, static l => l.EndsWith(" conc_tier=generate conc=queued conc_wait=250", StringComparison.Ordinal));
        Assert.Contains(lines, static l => l.Contains(" 503 ", StringComparison.Ordinal) && l.EndsWith(" conc_tier=generate conc=rejected conc_reason=queue_full", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Readyz_ShowsEachTiersLimit_AndAnAdaptiveLimitsFloorAndCeiling()
    {
        await using var app = await TestApp.StartEdgeAsync(
            edge => edge.AddHealth().AddConcurrency(o => o.AddTier("generate", t =>
            {
                t.Limit = 4;
                t.Adaptive.Enabled = true;
                t.Adaptive.MinLimit = 2;
                t.Adaptive.MaxLimit = 16;
            })),
            a => a.MapGet("/gen", () => "x").WithConcurrencyTier("generate"));

        using var response = await app.Client.GetAsync(new Uri("/readyz", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var check = json.RootElement.GetProperty("checks").EnumerateArray().Single(c => c.GetProperty("name").GetString() == "concurrency");
        var data = check.GetProperty("data");
        Assert.Equal(4, data.GetProperty("generate.limit").GetInt32());
        Assert.Equal(2, data.GetProperty("generate.limit_min").GetInt32());
        Assert.Equal(16, data.GetProperty("generate.limit_max").GetInt32());
        Assert.Equal(0, data.GetProperty("generate.in_flight").GetInt32());
    }

    private static double Sum(IReadOnlyList<MetricsCollector.Recorded> measurements, string instrument)
    {
        double total = 0;
        foreach (var m in measurements)
        {
            if (m.Instrument == instrument)
            {
                total += m.Value;
            }
        }

        return total;
    }
}
