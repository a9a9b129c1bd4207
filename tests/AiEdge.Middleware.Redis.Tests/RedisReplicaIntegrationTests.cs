using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using AiEdge.Middleware.Caching;
using AiEdge.Middleware.Redis.Internal;
using AiEdge.Middleware.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace AiEdge.Middleware.Redis.Tests;

/// <summary>Two app instances (replicas) sharing one real redis-server, driven over HTTP.</summary>
public sealed class RedisReplicaIntegrationTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private RedisServerFixture _redis = null!;

    public async Task InitializeAsync() => _redis = await RedisServerFixture.StartAsync();

    public Task DisposeAsync() => _redis.DisposeAsync();

    private Task<TestApp> StartReplicaAsync(string failureMode = "FailOpen")
        => TestApp.StartAsync(
            static builder => builder.Services.AddAiEdgeCore(static edge => edge
                .AddRateLimiting()
                .AddPredictionCache(static o => o.Anonymous = AnonymousCaching.Shared)
                .AddIdempotency()
                .AddRedis()),
            static app =>
            {
                app.UseAiEdge();
                app.MapGet("/shared", static () => "ok").WithRateLimitTier("shared");
                app.MapGet("/strict", static () => "ok").WithRateLimitTier("strict");
                app.MapGet("/loose", static () => "ok").WithRateLimitTier("loose");
                app.MapPost("/predict", static async (HttpContext context) =>
                {
                    using var reader = new StreamReader(context.Request.Body);
                    var input = await reader.ReadToEndAsync();
                    return Results.Json(new { input, invocation = Guid.NewGuid().ToString("n") });
                }).WithPredictionCache();
                app.MapPost("/jobs", static () => Results.Json(new { job = Guid.NewGuid().ToString("n") }, statusCode: 201)).WithIdempotency();
            },
            new Dictionary<string, string?>
            {
                ["AiEdge:Redis:Configuration"] = _redis.Configuration,
                ["AiEdge:Redis:FailureMode"] = failureMode,
                ["AiEdge:Redis:CommandTimeout"] = "00:00:05",
                ["AiEdge:RateLimiting:Tiers:shared:Rate"] = "1r/m",
                ["AiEdge:RateLimiting:Tiers:shared:Burst"] = "99",
                ["AiEdge:RateLimiting:Tiers:strict:Rate"] = "1r/m",
                ["AiEdge:RateLimiting:Tiers:strict:Burst"] = "4",
                ["AiEdge:RateLimiting:Tiers:loose:Rate"] = "100000r/s",
                ["AiEdge:RateLimiting:Tiers:loose:Burst"] = "100000",
            });

    private static Task<HttpStatusCode[]> HammerAsync(TestApp[] replicas, string path, int count)
        => RateLimitedReplicas.HammerAsync(replicas, path, count, Timeout);

    [Fact]
    public async Task TwoReplicas_ThousandConcurrentRequests_AdmitExactlyTheSharedLimit()
    {
        await using var a = await StartReplicaAsync();
        await using var b = await StartReplicaAsync();

        var statuses = await HammerAsync([a, b], "/shared", 1000);

        // 1r/m with burst 99: 100 admitted across both replicas, not 100 each.
        Assert.Equal(100, statuses.Count(static s => s == HttpStatusCode.OK));
        Assert.Equal(900, statuses.Count(static s => s == HttpStatusCode.TooManyRequests));
    }

    [Fact]
    public async Task PredictionCache_EntryWrittenThroughOneReplica_IsServedByTheOther()
    {
        await using var a = await StartReplicaAsync();
        await using var b = await StartReplicaAsync();

        using var first = await a.Client.PostAsync("/predict", new StringContent("{\"input\":\"hello\"}", Encoding.UTF8, "application/json")).WaitAsync(Timeout);
        var produced = await first.Content.ReadFromJsonAsync<Prediction>();
        using var second = await b.Client.PostAsync("/predict", new StringContent("{\"input\":\"hello\"}", Encoding.UTF8, "application/json")).WaitAsync(Timeout);
        var served = await second.Content.ReadFromJsonAsync<Prediction>();

        Assert.Equal("MISS", first.Headers.GetValues("X-Cache").Single());
        Assert.Equal("HIT", second.Headers.GetValues("X-Cache").Single());
        Assert.Equal(produced!.Invocation, served!.Invocation);
    }

    [Fact]
    public async Task PredictionCache_SharedMiss_ReadsAndLocksInOneCallAndWritesAndUnlocksInAnother()
    {
        await using var a = await StartReplicaAsync();
        await using var b = await StartReplicaAsync();
        await using var admin = await RedisTestConnections.ConnectAsync(_redis.Configuration + ",allowAdmin=true");
        await admin.ExecuteAsync("CONFIG", "RESETSTAT").WaitAsync(Timeout);

        using var miss = await a.Client.PostAsync("/predict", new StringContent("{\"input\":\"counted\"}", Encoding.UTF8, "application/json")).WaitAsync(Timeout);
        var missScripts = await ScriptCallsAsync(admin);
        await admin.ExecuteAsync("CONFIG", "RESETSTAT").WaitAsync(Timeout);
        using var hit = await b.Client.PostAsync("/predict", new StringContent("{\"input\":\"counted\"}", Encoding.UTF8, "application/json")).WaitAsync(Timeout);
        var hitScripts = await ScriptCallsAsync(admin);
        var locks = await admin.ExecuteAsync("KEYS", "aiedge:lock:*").WaitAsync(Timeout);

        Assert.Equal("MISS", miss.Headers.GetValues("X-Cache").Single());
        Assert.Equal("HIT", hit.Headers.GetValues("X-Cache").Single());

        // The miss: read-or-lock, then write-and-unlock (was: read, lock, write, unlock). The hit: one read.
        Assert.Equal(2, missScripts);
        Assert.Equal(1, hitScripts);
        Assert.Empty(locks.Items!);
    }

    [Fact]
    public async Task PredictionCache_IdenticalConcurrentMissesOnTwoReplicas_RunTheEndpointOnce()
    {
        await using var a = await StartReplicaAsync();
        await using var b = await StartReplicaAsync();
        var replicas = new[] { a, b };

        var answers = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => Task.Run(async () =>
        {
            using var response = await replicas[i % 2].Client.PostAsync("/predict", new StringContent("{\"input\":\"together\"}", Encoding.UTF8, "application/json"));
            var prediction = await response.Content.ReadFromJsonAsync<Prediction>();
            return (Cache: response.Headers.GetValues("X-Cache").Single(), prediction!.Invocation);
        }))).WaitAsync(Timeout);

        // One request ran the endpoint; every other one waited for it and was answered from the shared entry.
        Assert.Single(answers, static x => x.Cache == "MISS");
        Assert.Single(answers.Select(static x => x.Invocation).Distinct());
    }

    private static async Task<long> ScriptCallsAsync(RedisConnection admin)
    {
        var info = await admin.ExecuteAsync("INFO", "commandstats").WaitAsync(Timeout);
        long calls = 0;
        foreach (var line in Encoding.UTF8.GetString(info.Bytes!).Split('\n'))
        {
            if (line.StartsWith("cmdstat_eval:", StringComparison.Ordinal) || line.StartsWith("cmdstat_evalsha:", StringComparison.Ordinal))
            {
                var start = line.IndexOf("calls=", StringComparison.Ordinal) + "calls=".Length;
                calls += long.Parse(line.AsSpan(start, line.IndexOf(',', start) - start), System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        return calls;
    }

    [Fact]
    public async Task Idempotency_ResponseWrittenThroughOneReplica_IsReplayedByTheOther()
    {
        await using var a = await StartReplicaAsync();
        await using var b = await StartReplicaAsync();

        var key = Guid.NewGuid().ToString("n");
        using var first = await a.Client.SendAsync(Job(key)).WaitAsync(Timeout);
        var created = await first.Content.ReadFromJsonAsync<CreatedJob>();
        using var replay = await b.Client.SendAsync(Job(key)).WaitAsync(Timeout);
        var replayed = await replay.Content.ReadFromJsonAsync<CreatedJob>();

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.Created, replay.StatusCode);
        Assert.Equal(created!.Job, replayed!.Job);
        Assert.True(replay.Headers.Contains("Idempotent-Replayed"));
    }

    [Fact]
    public async Task KillMidLoad_NoServerErrorsNoSlowRequests_AndEnforcementResumesAfterRestart()
    {
        await using var a = await StartReplicaAsync();
        await using var b = await StartReplicaAsync();
        TestApp[] replicas = [a, b];
        var statuses = new System.Collections.Concurrent.ConcurrentBag<HttpStatusCode>();
        var slowest = TimeSpan.Zero;
        var gate = new object();

        async Task LoadAsync(int requests)
        {
            await Task.WhenAll(Enumerable.Range(0, requests).Select(i => Task.Run(async () =>
            {
                var started = Stopwatch.GetTimestamp();
                using var response = await replicas[i % 2].Client.GetAsync("/loose");
                var elapsed = Stopwatch.GetElapsedTime(started);
                lock (gate)
                {
                    slowest = elapsed > slowest ? elapsed : slowest;
                }

                statuses.Add(response.StatusCode);
            }))).WaitAsync(Timeout);
        }

        var load = LoadAsync(2000);
        while (statuses.Count < 300)
        {
            await Task.Yield();
            Assert.False(load.IsCompleted && statuses.Count < 300, "The load ended early.");
        }

        _redis.Kill();
        await load;
        await LoadAsync(500);

        Assert.Equal(2500, statuses.Count);
        Assert.All(statuses, static s => Assert.Equal(HttpStatusCode.OK, s));
        Assert.True(slowest < TimeSpan.FromSeconds(3), $"The slowest request took {slowest}.");

        await _redis.RestartAsync();
        foreach (var replica in replicas)
        {
            await replica.Services.GetRequiredService<RedisConnection>().WhenConnectedAsync().WaitAsync(Timeout);
        }

        // The restarted Redis is empty; the shared limit holds again across both replicas: 1 + burst 4.
        var enforced = await HammerAsync(replicas, "/strict", 40);
        Assert.Equal(5, enforced.Count(static s => s == HttpStatusCode.OK));
        Assert.Equal(35, enforced.Count(static s => s == HttpStatusCode.TooManyRequests));
    }

    [Fact]
    public async Task RedisDown_FailOpen_LimitsFallBackToEachReplica()
    {
        await using var a = await StartReplicaAsync();
        _redis.Kill();
        await WaitUntilDisconnectedAsync(a);

        var statuses = await HammerAsync([a], "/strict", 10);

        Assert.Equal(5, statuses.Count(static s => s == HttpStatusCode.OK));
        Assert.Equal(5, statuses.Count(static s => s == HttpStatusCode.TooManyRequests));
    }

    [Fact]
    public async Task RedisDown_FailClosed_Answers503ProblemWithRetryAfter()
    {
        await using var a = await StartReplicaAsync("FailClosed");
        using var before = await a.Client.GetAsync("/strict").WaitAsync(Timeout);
        _redis.Kill();
        await WaitUntilDisconnectedAsync(a);

        using var during = await a.Client.GetAsync("/strict").WaitAsync(Timeout);

        Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        await ProblemAssert.IsProblemAsync(during, HttpStatusCode.ServiceUnavailable);
        Assert.Equal("1", during.Headers.GetValues("Retry-After").Single());
    }

    private static HttpRequestMessage Job(string key)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/jobs") { Content = new StringContent("{\"epochs\":3}", Encoding.UTF8, "application/json") };
        request.Headers.TryAddWithoutValidation("Idempotency-Key", "\"" + key + "\"");
        return request;
    }

    private static async Task WaitUntilDisconnectedAsync(TestApp app)
    {
        var connection = app.Services.GetRequiredService<IRedisConnection>();
        var deadline = DateTime.UtcNow + Timeout;
        while (connection.IsConnected)
        {
            Assert.True(DateTime.UtcNow < deadline, "The connection never noticed Redis was gone.");
            await Task.Delay(10);
        }
    }

    private sealed record Prediction(string Input, string Invocation);

    private sealed record CreatedJob(string Job);
}
