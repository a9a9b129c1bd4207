using System.Diagnostics;
using System.Net;
using AiEdge.Middleware.Concurrency;
using AiEdge.Middleware.Redis.Internal;
using AiEdge.Middleware.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit.Abstractions;

namespace AiEdge.Middleware.Redis.Tests;

/// <summary>
/// Concurrency tiers shared through one real redis-server by two app instances (replicas), driven over HTTP with real
/// concurrency: held streams share the cap exactly, a slot freed on one replica reaches a request queued on the
/// other, a dead replica's slots expire, and Redis killed under load costs no server error.
/// </summary>
public sealed class RedisConcurrencyReplicaTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private RedisServerFixture _redis = null!;

    public async Task InitializeAsync() => _redis = await RedisServerFixture.StartAsync();

    public Task DisposeAsync() => _redis.DisposeAsync();

    [Fact]
    public async Task TwoReplicas_HeldStreams_ShareTheCapExactly_AndFreeItWhenTheyEnd()
    {
        var valve = new Valve();
        await using var a = await StartReplicaAsync(valve);
        await using var b = await StartReplicaAsync(valve);

        // 24 requests at once, alternating replicas, on a tier of 5 without a queue: the admitted ones hold their
        // stream open until the valve opens, so every decision is taken while the admitted ones are in flight.
        var first = await BurstAsync([a, b], "/held", 24);
        Assert.Equal(5, first.Count(static r => r.StatusCode == HttpStatusCode.OK));
        Assert.Equal(19, first.Count(static r => r.StatusCode == HttpStatusCode.ServiceUnavailable));

        valve.Open();
        await DrainAsync(first);
        valve.Close();

        // Every slot came back: the next burst gets the whole cap again.
        var second = await BurstAsync([b, a], "/held", 24);
        Assert.Equal(5, second.Count(static r => r.StatusCode == HttpStatusCode.OK));
        valve.Open();
        await DrainAsync(second);
    }

    [Fact]
    public async Task SlotFreedOnOneReplica_ReachesTheRequestQueuedOnTheOther_Promptly()
    {
        var valve = new Valve();
        using var metricsB = new MetricsCollector();
        await using var a = await StartReplicaAsync(valve);
        await using var b = await StartReplicaAsync(valve, metricsB);
        var handoffs = new List<TimeSpan>();

        // The tier's one slot held on A, a request queued on B; A's stream ends and B's request must start. Published
        // releases reach B at once; without them B would find the slot at its next poll (up to a second later).
        for (var i = 0; i < 10; i++)
        {
            using var held = await SendAsync(a, "/one");
            Assert.Equal(HttpStatusCode.OK, held.StatusCode);
            var queued = SendAsync(b, "/one");
            await UntilAsync(() => Current(metricsB, "aiedge.concurrency.queued", "one") == 1, "a request queued on B");

            var clock = Stopwatch.StartNew();
            valve.Release(1);
            using var served = await queued;
            handoffs.Add(clock.Elapsed);
            Assert.Equal(HttpStatusCode.OK, served.StatusCode);
            valve.Release(1);
            await DrainAsync([held, served]);
        }

        handoffs.Sort();
        var median = handoffs[handoffs.Count / 2];
        output.WriteLine("Hand-offs across replicas (ms): " + string.Join(", ", handoffs.Select(static h => h.TotalMilliseconds.ToString("F1", System.Globalization.CultureInfo.InvariantCulture))));
        Assert.True(median < TimeSpan.FromMilliseconds(250), "Median hand-off across replicas: " + median.TotalMilliseconds + " ms.");
    }

    [Fact]
    public async Task DeadReplicasSlots_ExpireAfterTheLeaseDuration_AndTheQueuedRequestRuns()
    {
        var valve = new Valve();
        valve.Open();
        await using var b = await StartReplicaAsync(valve);

        // A replica that took the tier's only slot and died: it neither renews nor releases its lease.
        await using (var dead = await RedisTestConnections.ConnectAsync(_redis.Configuration))
        {
            using var store = new RedisConcurrencyStore(dead, new InMemoryConcurrencyStore(TimeProvider.System), new RedisOptions(), null, null, TimeProvider.System, NullLogger.Instance);
            Assert.True((await store.TryAcquireAsync("concurrency:one", 1, TimeSpan.FromSeconds(2), CancellationToken.None)).Acquired);
        }

        var clock = Stopwatch.StartNew();
        using var response = await SendAsync(b, "/one");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        output.WriteLine("Queued behind a dead replica's 2 s lease for " + clock.Elapsed.TotalMilliseconds + " ms.");
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2) + RedisConcurrencyStore.PollInterval + TimeSpan.FromSeconds(2));
    }

    [Fact]
    public async Task RedisKilledUnderLoad_NoServerError_AndTheCapIsExactAgainAfterRestart()
    {
        var valve = new Valve();
        using var metricsA = new MetricsCollector();
        using var metricsB = new MetricsCollector();
        await using var a = await StartReplicaAsync(valve, metricsA);
        await using var b = await StartReplicaAsync(valve, metricsB);
        TestApp[] replicas = [a, b];
        var statuses = new System.Collections.Concurrent.ConcurrentBag<HttpStatusCode>();
        using var stop = new CancellationTokenSource();

        // Eight clients in a loop on a tier of 2 with a deep queue: every request waits its turn and succeeds.
        var load = Task.WhenAll(Enumerable.Range(0, 8).Select(i => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                using var response = await replicas[i % 2].Client.GetAsync("/quick");
                statuses.Add(response.StatusCode);
            }
        })));

        await UntilAsync(() => statuses.Count >= 200, "200 requests before the kill");
        _redis.Kill();
        var atKill = statuses.Count;
        await UntilAsync(() => statuses.Count >= atKill + 200, "200 requests with Redis down");
        await _redis.RestartAsync();
        foreach (var replica in replicas)
        {
            await replica.Services.GetRequiredService<RedisConnection>().WhenConnectedAsync().WaitAsync(Timeout);
        }

        var atRestart = statuses.Count;
        await UntilAsync(() => statuses.Count >= atRestart + 200, "200 requests after the restart");
        await stop.CancelAsync();
        await load.WaitAsync(Timeout);

        Assert.All(statuses, static s => Assert.Equal(HttpStatusCode.OK, s));

        // The restarted Redis is empty, and both replicas count in it again: held streams get exactly the cap.
        await UntilAsync(() => Current(metricsA, "aiedge.concurrency.in_flight", "quick") == 0 && Current(metricsB, "aiedge.concurrency.in_flight", "quick") == 0, "the load drained");
        var burst = await BurstAsync(replicas, "/held", 24);
        Assert.Equal(5, burst.Count(static r => r.StatusCode == HttpStatusCode.OK));
        valve.Open();
        await DrainAsync(burst);
    }

    [Fact]
    public async Task RedisDown_FailClosed_ConcurrencyTierAnswers503ProblemWithRetryAfter()
    {
        var valve = new Valve();
        valve.Open();
        await using var a = await StartReplicaAsync(valve, failureMode: "FailClosed");
        using var before = await SendAsync(a, "/held");
        await before.Content.ReadAsStringAsync();
        _redis.Kill();
        var connection = a.Services.GetRequiredService<IRedisConnection>();
        await UntilAsync(() => !connection.IsConnected, "the connection noticed Redis was gone");

        using var during = await SendAsync(a, "/held");

        Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        await ProblemAssert.IsProblemAsync(during, HttpStatusCode.ServiceUnavailable);
        Assert.Equal("1", during.Headers.GetValues("Retry-After").Single());
    }

    private Task<TestApp> StartReplicaAsync(Valve valve, MetricsCollector? metrics = null, string failureMode = "FailOpen")
        => TestApp.StartEdgeAsync(
            static edge => edge.AddConcurrency().AddRedis(),
            app =>
            {
                app.MapGet("/held", (HttpContext context) => HoldAsync(context, valve)).WithConcurrencyTier("held");
                app.MapGet("/one", (HttpContext context) => HoldAsync(context, valve)).WithConcurrencyTier("one");
                app.MapGet("/quick", static async () =>
                {
                    await Task.Delay(2);
                    return "ok";
                }).WithConcurrencyTier("quick");
            },
            new TestAppOptions
            {
                Services = metrics is null ? null : builder => builder.Services.AddSingleton(metrics.MeterFactory),
                Configuration = new Dictionary<string, string?>
                {
                    ["AiEdge:Redis:Configuration"] = _redis.Configuration,
                    ["AiEdge:Redis:CommandTimeout"] = "00:00:01",
                    ["AiEdge:Redis:FailureMode"] = failureMode,
                    ["AiEdge:Concurrency:Tiers:held:Limit"] = "5",
                    ["AiEdge:Concurrency:Tiers:held:QueueLimit"] = "0",
                    ["AiEdge:Concurrency:Tiers:one:Limit"] = "1",
                    ["AiEdge:Concurrency:Tiers:one:QueueLimit"] = "4",
                    ["AiEdge:Concurrency:Tiers:one:QueueTimeout"] = "00:00:30",
                    ["AiEdge:Concurrency:Tiers:quick:Limit"] = "2",
                    ["AiEdge:Concurrency:Tiers:quick:QueueLimit"] = "100",
                    ["AiEdge:Concurrency:Tiers:quick:QueueTimeout"] = "00:00:30",
                },
            });

    /// <summary>A streamed answer: headers and a first line at once, the end when the valve lets it through.</summary>
    private static async Task HoldAsync(HttpContext context, Valve valve)
    {
        context.Response.ContentType = "text/plain";
        await context.Response.WriteAsync("started\n", context.RequestAborted);
        await context.Response.Body.FlushAsync(context.RequestAborted);
        await valve.PassAsync(context.RequestAborted);
        await context.Response.WriteAsync("done\n", context.RequestAborted);
    }

    private static async Task<HttpResponseMessage> SendAsync(TestApp app, string path)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, new Uri(app.BaseAddress, path));
        return await app.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead).WaitAsync(Timeout);
    }

    private static async Task<HttpResponseMessage[]> BurstAsync(TestApp[] replicas, string path, int count)
    {
        var tasks = new Task<HttpResponseMessage>[count];
        for (var i = 0; i < count; i++)
        {
            var replica = replicas[i % replicas.Length];
            tasks[i] = Task.Run(() => SendAsync(replica, path));
        }

        return await Task.WhenAll(tasks).WaitAsync(Timeout);
    }

    private static async Task DrainAsync(IEnumerable<HttpResponseMessage> responses)
    {
        foreach (var response in responses)
        {
            await response.Content.ReadAsStringAsync().WaitAsync(Timeout);
            response.Dispose();
        }
    }

    /// <summary>The value of an up-down counter of a tier now (the sum of its measurements).</summary>
    private static double Current(MetricsCollector metrics, string instrument, string tier)
    {
        var sum = 0d;
        foreach (var measurement in metrics.Measurements)
        {
            if (measurement.Instrument == instrument && Equals(measurement.Tags.GetValueOrDefault("aiedge.concurrency.tier"), tier))
            {
                sum += measurement.Value;
            }
        }

        return sum;
    }

    private static async Task UntilAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "Timed out waiting for " + what + ".");
            await Task.Delay(2);
        }
    }

    /// <summary>Holds streamed answers open: each waits for one <see cref="Release"/>, or passes while open.</summary>
    private sealed class Valve
    {
        private readonly SemaphoreSlim _gate = new(0);
        private volatile bool _open;

        public async Task PassAsync(CancellationToken aborted)
        {
            if (!_open)
            {
                await _gate.WaitAsync(aborted);
            }
        }

        public void Release(int count) => _gate.Release(count);

        public void Open()
        {
            _open = true;
            _gate.Release(1000);
        }

        public void Close()
        {
            _open = false;
            while (_gate.CurrentCount > 0)
            {
                _gate.Wait(0);
            }
        }
    }
}
