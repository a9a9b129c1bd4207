using System.Net;
using System.Net.Http.Json;
using System.Text;
using AiEdge.Middleware.Caching;
using AiEdge.Middleware.Conformance;
using AiEdge.Middleware.RateLimiting;
using AiEdge.Middleware.Redis.Internal;
using AiEdge.Middleware.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace AiEdge.Middleware.Redis.Tests;

/// <summary>A real 6-node Redis Cluster: two app instances share every kind of state, the stores pass the conformance kits, and a topology error is never silent.</summary>
[CollectionDefinition(Name)]
public sealed class RedisClusterCollection : ICollectionFixture<RedisClusterFixture>
{
    public const string Name = "Redis Cluster";
}

[Collection(RedisClusterCollection.Name)]
public sealed class RedisClusterTests(RedisClusterFixture cluster)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private Task<TestApp> StartReplicaAsync(LogCapture? log = null, MetricsCollector? metrics = null)
        => TestApp.StartAsync(
            builder =>
            {
                if (log is not null)
                {
                    builder.Logging.AddProvider(log);
                }

                if (metrics is not null)
                {
                    builder.Services.AddSingleton(metrics.MeterFactory);
                }

                builder.Services.AddAiEdgeCore(static edge => edge
                    .AddRateLimiting()
                    .AddPredictionCache(static o => o.Anonymous = AnonymousCaching.Shared)
                    .AddIdempotency()
                    .AddRedis());
            },
            static app =>
            {
                app.UseAiEdge();
                app.MapGet("/shared", static () => "ok").WithRateLimitTier("shared");
                app.MapPost("/predict", static async (HttpContext context) =>
                {
                    using var reader = new StreamReader(context.Request.Body);
                    var input = await reader.ReadToEndAsync();
                    await Task.Delay(50);
                    return Results.Json(new { input, invocation = Guid.NewGuid().ToString("n") });
                }).WithPredictionCache();
                app.MapPost("/jobs", static () => Results.Json(new { job = Guid.NewGuid().ToString("n") }, statusCode: 201)).WithIdempotency();
                app.MapHealthChecks("/readyz");
            },
            new Dictionary<string, string?>
            {
                ["AiEdge:Redis:Configuration"] = cluster.Configuration,
                ["AiEdge:Redis:CommandTimeout"] = "00:00:05",
                ["AiEdge:RateLimiting:Tiers:shared:Rate"] = "1r/m",
                ["AiEdge:RateLimiting:Tiers:shared:Burst"] = "49",
            });

    private async Task FlushAsync()
    {
        foreach (var node in cluster.Nodes)
        {
            if (node.IsRunning && (await node.CommandAsync("ROLE")).Contains("master", StringComparison.Ordinal))
            {
                await node.CommandAsync("FLUSHALL");
            }
        }
    }

    [Fact]
    public async Task TwoReplicas_ConcurrentRequests_AdmitExactlyTheSharedLimit()
    {
        await FlushAsync();
        await using var a = await StartReplicaAsync();
        await using var b = await StartReplicaAsync();
        TestApp[] replicas = [a, b];

        var statuses = await Task.WhenAll(Enumerable.Range(0, 400).Select(i => Task.Run(async () =>
        {
            using var response = await replicas[i % 2].Client.GetAsync("/shared");
            return response.StatusCode;
        }))).WaitAsync(Timeout);

        Assert.Equal(50, statuses.Count(static s => s == HttpStatusCode.OK));
        Assert.Equal(350, statuses.Count(static s => s == HttpStatusCode.TooManyRequests));
    }

    [Fact]
    public async Task TwoReplicas_ShareCacheEntriesCoalescingAndIdempotencyRecords()
    {
        await FlushAsync();
        await using var a = await StartReplicaAsync();
        await using var b = await StartReplicaAsync();
        TestApp[] replicas = [a, b];

        // Entries: written through one replica, served by the other, for keys in many slots.
        for (var i = 0; i < 6; i++)
        {
            var body = "{\"input\":\"entry-" + i + "\"}";
            using var first = await a.Client.PostAsync("/predict", new StringContent(body, Encoding.UTF8, "application/json")).WaitAsync(Timeout);
            using var second = await b.Client.PostAsync("/predict", new StringContent(body, Encoding.UTF8, "application/json")).WaitAsync(Timeout);
            Assert.Equal("MISS", first.Headers.GetValues("X-Cache").Single());
            Assert.Equal("HIT", second.Headers.GetValues("X-Cache").Single());
            Assert.Equal((await first.Content.ReadFromJsonAsync<Prediction>())!.Invocation, (await second.Content.ReadFromJsonAsync<Prediction>())!.Invocation);
        }

        // Coalescing: identical concurrent misses on both replicas run the endpoint once.
        var answers = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => Task.Run(async () =>
        {
            using var response = await replicas[i % 2].Client.PostAsync("/predict", new StringContent("{\"input\":\"together\"}", Encoding.UTF8, "application/json"));
            var prediction = await response.Content.ReadFromJsonAsync<Prediction>();
            return (Cache: response.Headers.GetValues("X-Cache").Single(), prediction!.Invocation);
        }))).WaitAsync(Timeout);
        Assert.Single(answers, static x => x.Cache == "MISS");
        Assert.Single(answers.Select(static x => x.Invocation).Distinct());

        // Idempotency: a response recorded through one replica is replayed by the other.
        var key = Guid.NewGuid().ToString("n");
        using var created = await a.Client.SendAsync(Job(key)).WaitAsync(Timeout);
        using var replay = await b.Client.SendAsync(Job(key)).WaitAsync(Timeout);
        Assert.Equal(HttpStatusCode.Created, replay.StatusCode);
        Assert.True(replay.Headers.Contains("Idempotent-Replayed"));
        Assert.Equal(await created.Content.ReadAsStringAsync(), await replay.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task RateLimitStore_BatchOfRulesOnDifferentPartitions_IsAllOrNothingAndExactAcrossTwoConnections()
    {
        await using var first = await RedisTestConnections.ConnectAsync(cluster.Configuration, static o => o.CommandTimeout = Timeout);
        await using var second = await RedisTestConnections.ConnectAsync(cluster.Configuration, static o => o.CommandTimeout = Timeout);
        var stores = new[]
        {
            new RedisRateLimitStore(first, RedisRateLimitStoreTests.InMemory(), new RedisOptions(), null),
            new RedisRateLimitStore(second, RedisRateLimitStoreTests.InMemory(), new RedisOptions(), null),
        };
        // One request a minute: nothing drains while the test runs.
        var byIp = new RateLimitRule("per-client", null, RateLimitUnit.Requests, 1000, 60_000, 9_000, long.MaxValue, 0, 1, 60);
        var byKey = new RateLimitRule("per-key", null, RateLimitUnit.Requests, 1000, 60_000, 4_000, long.MaxValue, 1, 1, 60);
        var run = Guid.NewGuid().ToString("n");
        var apiKey = PartitionKey.FromText("key-" + run);

        // Rules partitioned by client and by API key in one request: 40 clients share the API key's 5 admissions.
        var batches = Enumerable.Range(0, 40).Select(i =>
        {
            var batch = new RateLimitBatch();
            batch.Add(byIp, PartitionKey.FromText("ip-" + run + "-" + i), 1000);
            batch.Add(byKey, apiKey, 1000);
            return batch;
        }).ToArray();
        await Task.WhenAll(batches.Select((batch, i) => stores[i % 2].AcquireAsync(batch, default).AsTask())).WaitAsync(Timeout);

        Assert.Equal(5, batches.Count(static b => b.Admitted));

        // A refused request left the client's own bucket untouched (all-or-nothing): each refused client still has its full burst.
        var refusedClient = Array.FindIndex(batches, static b => !b.Admitted);
        var again = new RateLimitBatch();
        for (var i = 0; i < 9; i++)
        {
            again.Reset();
            again.Add(byIp, PartitionKey.FromText("ip-" + run + "-" + refusedClient), 1000);
            await stores[0].AcquireAsync(again, default).AsTask().WaitAsync(Timeout);
            Assert.True(again.Admitted, $"Request {i + 1} of the refused client's burst was refused.");
        }
    }

    public static TheoryData<string> RateLimitChecks() => new(RateLimitStoreConformance.Checks(new() { CreateStore = NoStore, UsesOwnClock = true }).Names());

    [Theory]
    [MemberData(nameof(RateLimitChecks))]
    public async Task RateLimitConformance_OnTheCluster(string check)
    {
        await using var connection = await RedisTestConnections.ConnectAsync(cluster.Configuration, static o => o.CommandTimeout = RedisTestConnections.Timeout);
        await RateLimitStoreConformance.Checks(new()
        {
            CreateStore = () => new RedisRateLimitStore(connection, RedisRateLimitStoreTests.InMemory(), new RedisOptions(), null),
            UsesOwnClock = true,
        }).Get(check).RunAsync().WaitAsync(Timeout);
    }

    public static TheoryData<string> IdempotencyChecks() => new(IdempotencyStoreConformance.Checks(new() { CreateStore = static () => throw new InvalidOperationException() }).Names());

    [Theory]
    [MemberData(nameof(IdempotencyChecks))]
    public async Task IdempotencyConformance_OnTheCluster(string check)
    {
        await using var connection = await RedisTestConnections.ConnectAsync(cluster.Configuration);
        await IdempotencyStoreConformance.Checks(new()
        {
            CreateStore = () => new RedisIdempotencyStore(
                connection,
                new InMemoryIdempotencyStore(TimeProvider.System),
                new RedisOptions { KeyPrefix = "conformance:" + Guid.NewGuid().ToString("N") + ":" },
                null),
        }).Get(check).RunAsync().WaitAsync(Timeout);
    }

    public static TheoryData<string> ConcurrencyChecks() => new(ConcurrencyStoreConformance.Checks(new() { CreateStore = static () => throw new InvalidOperationException() }).Names());

    [Theory]
    [MemberData(nameof(ConcurrencyChecks))]
    public async Task ConcurrencyConformance_OnTheCluster(string check)
    {
        // The leases and the id counter of a key share its hash slot, so each script runs on one node.
        await using var connection = await RedisTestConnections.ConnectAsync(cluster.Configuration, static o => o.CommandTimeout = RedisTestConnections.Timeout);
        await ConcurrencyStoreConformance.Checks(new()
        {
            CreateStore = () => new RedisConcurrencyStore(
                connection,
                new AiEdge.Middleware.Concurrency.InMemoryConcurrencyStore(TimeProvider.System),
                new RedisOptions(),
                null,
                null,
                TimeProvider.System,
                Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance),
        }).Get(check).RunAsync().WaitAsync(Timeout);
    }

    public static TheoryData<string> PredictionCacheChecks() => new(PredictionCacheStoreConformance.Checks(new() { CreateStore = static () => throw new InvalidOperationException() }).Names());

    [Theory]
    [MemberData(nameof(PredictionCacheChecks))]
    public async Task PredictionCacheConformance_OnTheCluster(string check)
    {
        await using var connection = await RedisTestConnections.ConnectAsync(cluster.Configuration);
        await PredictionCacheStoreConformance.Checks(new()
        {
            CreateStore = () => new RedisPredictionCacheStore(connection, new InMemoryPredictionCacheStore(new FakeTimeProvider(TestClock.Start)), new RedisOptions(), null),
        }).Get(check).RunAsync().WaitAsync(Timeout);
    }

    [Fact]
    public async Task SlotNotServed_TopologyErrorIsLoggedCountedAndMakesReadinessDegraded_ThenRecovers()
    {
        await FlushAsync();
        var log = new LogCapture();
        using var metrics = new MetricsCollector();
        await using var app = await StartReplicaAsync(log, metrics);
        var slot = await cluster.SlotOfAsync("rl");
        var owner = await cluster.PrimaryOfSlotAsync(slot);
        using (var healthy = await app.Client.GetAsync("/readyz").WaitAsync(Timeout))
        {
            Assert.Equal("Healthy", await healthy.Content.ReadAsStringAsync());
        }

        // The rate-limit slot loses its owner: the cluster answers CLUSTERDOWN for it.
        Assert.Contains("OK", await owner.CommandAsync("CLUSTER DELSLOTS " + slot));
        HttpStatusCode status;
        try
        {
            using var limited = await app.Client.GetAsync("/shared").WaitAsync(Timeout);
            status = limited.StatusCode;
        }
        finally
        {
            await owner.CommandAsync("CLUSTER ADDSLOTS " + slot);
        }

        using var degraded = await app.Client.GetAsync("/readyz").WaitAsync(Timeout);
        await cluster.WaitUntilOkAsync(Timeout);

        Assert.Equal(HttpStatusCode.OK, status);   // decided locally (fail-open)
        var logged = Assert.Single(log.WithId(1804));
        Assert.Equal(LogLevel.Error, logged.Level);
        Assert.Contains("CLUSTERDOWN", logged.Message);
        Assert.Contains(metrics.Measurements, static m => m.Instrument == "aiedge.redis.topology_errors" && Equals(m.Tags["error.type"], "CLUSTERDOWN"));
        Assert.Contains(metrics.Measurements, static m => m.Instrument == "aiedge.redis.fallbacks" && Equals(m.Tags["aiedge.concern"], "ratelimit"));
        Assert.Equal(HttpStatusCode.OK, degraded.StatusCode);
        Assert.Equal("Degraded", await degraded.Content.ReadAsStringAsync());
    }

    private static IRateLimitStore NoStore() => throw new InvalidOperationException("Only the names are listed.");

    private static HttpRequestMessage Job(string key)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/jobs") { Content = new StringContent("{\"epochs\":3}", Encoding.UTF8, "application/json") };
        request.Headers.TryAddWithoutValidation("Idempotency-Key", "\"" + key + "\"");
        return request;
    }

    private sealed record Prediction(string Input, string Invocation);
}
