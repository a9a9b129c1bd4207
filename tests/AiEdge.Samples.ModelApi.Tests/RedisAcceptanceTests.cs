using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using AiEdge.Middleware.Testing;

namespace AiEdge.Samples.ModelApi.Tests;

/// <summary>
/// Two instances of the sample (two replicas) with <c>AiEdge:Redis:Configuration</c> pointing at one real
/// redis-server: one limit, one cache and one set of idempotent responses for both.
/// </summary>
public sealed class RedisAcceptanceTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private RedisServerFixture _redis = null!;

    public async Task InitializeAsync() => _redis = await RedisServerFixture.StartAsync();

    public Task DisposeAsync() => _redis.DisposeAsync();

    private ModelApiFactory Replica(Dictionary<string, string?>? extra = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["AiEdge:Redis:Configuration"] = _redis.Configuration,
            ["AiEdge:Redis:CommandTimeout"] = "00:00:05",
        };
        foreach (var (key, value) in extra ?? [])
        {
            settings[key] = value;
        }

        return new ModelApiFactory(settings);
    }

    private static HttpRequestMessage Post(string path, string json, string? idempotencyKey = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        if (idempotencyKey is not null)
        {
            request.Headers.TryAddWithoutValidation("Idempotency-Key", "\"" + idempotencyKey + "\"");
        }

        return request;
    }

    [Fact]
    public async Task Readyz_RedisConfigured_ListsAHealthyRedisEntry()
    {
        await using var factory = Replica();
        using var client = factory.CreateClient();

        using var response = await client.GetAsync("/readyz").WaitAsync(Timeout);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var redis = body.GetProperty("checks").EnumerateArray().Single(static c => c.GetProperty("name").GetString() == "redis");
        Assert.Equal("Healthy", redis.GetProperty("status").GetString());
    }

    [Fact]
    public async Task Predict_TwoReplicas_ThousandConcurrentRequests_AdmitExactlyTheSharedLimit()
    {
        var strict = new Dictionary<string, string?> { ["AiEdge:RateLimiting:Tiers:predict:Rate"] = "1r/m", ["AiEdge:RateLimiting:Tiers:predict:Burst"] = "20" };
        await using var a = Replica(strict);
        await using var b = Replica(strict);
        HttpClient[] clients = [a.CreateClient(), b.CreateClient()];

        var statuses = await Task.WhenAll(Enumerable.Range(0, 1000).Select(i => Task.Run(async () =>
        {
            using var response = await clients[i % 2].SendAsync(Post("/v1/predict", "{\"model\":\"m\",\"input\":\"load " + i + "\"}"));
            return response.StatusCode;
        }))).WaitAsync(Timeout);

        Assert.Equal(21, statuses.Count(static s => s == HttpStatusCode.OK));
        Assert.Equal(979, statuses.Count(static s => s == HttpStatusCode.TooManyRequests));
    }

    [Fact]
    public async Task Predict_CachedThroughOneReplica_IsAHitOnTheOther()
    {
        await using var a = Replica();
        await using var b = Replica();
        var body = "{\"model\":\"m\",\"input\":\"shared " + Guid.NewGuid().ToString("n") + " great\"}";

        using var first = await a.CreateClient().SendAsync(Post("/v1/predict", body)).WaitAsync(Timeout);
        var produced = await first.Content.ReadFromJsonAsync<JsonElement>();
        using var second = await b.CreateClient().SendAsync(Post("/v1/predict", body)).WaitAsync(Timeout);
        var served = await second.Content.ReadFromJsonAsync<JsonElement>();

        Assert.Equal("MISS", first.Headers.GetValues("X-Cache").Single());
        Assert.Equal("HIT", second.Headers.GetValues("X-Cache").Single());
        Assert.Equal(produced.GetProperty("invocation").GetString(), served.GetProperty("invocation").GetString());
    }

    [Fact]
    public async Task Train_IdempotentThroughOneReplica_IsReplayedByTheOther()
    {
        var roomy = new Dictionary<string, string?> { ["AiEdge:RateLimiting:Tiers:train:Rate"] = "10r/s", ["AiEdge:RateLimiting:Tiers:train:Burst"] = "10" };
        await using var a = Replica(roomy);
        await using var b = Replica(roomy);
        var key = Guid.NewGuid().ToString("n");

        using var first = await a.CreateClient().SendAsync(Post("/v1/train", "{\"epochs\":3}", key)).WaitAsync(Timeout);
        var created = await first.Content.ReadFromJsonAsync<JsonElement>();
        using var replay = await b.CreateClient().SendAsync(Post("/v1/train", "{\"epochs\":3}", key)).WaitAsync(Timeout);
        var replayed = await replay.Content.ReadFromJsonAsync<JsonElement>();

        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, replay.StatusCode);
        Assert.Equal(created.GetProperty("job").GetString(), replayed.GetProperty("job").GetString());
    }

    [Fact]
    public async Task RedisKilled_RequestsKeepSucceeding_AndReadyzShowsRedisDegraded()
    {
        await using var a = Replica(new Dictionary<string, string?> { ["AiEdge:Health:CacheDuration"] = "00:00:00" });
        using var client = a.CreateClient();
        using (var warm = await client.SendAsync(Post("/v1/predict", "{\"model\":\"m\",\"input\":\"before\"}")).WaitAsync(Timeout))
        {
            Assert.Equal(HttpStatusCode.OK, warm.StatusCode);
        }

        _redis.Kill();
        var statuses = await Task.WhenAll(Enumerable.Range(0, 15).Select(i => Task.Run(async () =>
        {
            using var response = await client.SendAsync(Post("/v1/predict", "{\"model\":\"m\",\"input\":\"during " + i + "\"}"));
            return response.StatusCode;
        }))).WaitAsync(Timeout);

        Assert.All(statuses, static s => Assert.Equal(HttpStatusCode.OK, s));
        var deadline = DateTime.UtcNow + Timeout;
        while (true)
        {
            using var ready = await client.GetAsync("/readyz").WaitAsync(Timeout);
            var body = await ready.Content.ReadFromJsonAsync<JsonElement>();
            var redis = body.GetProperty("checks").EnumerateArray().Single(static c => c.GetProperty("name").GetString() == "redis");
            if (redis.GetProperty("status").GetString() == "Degraded")
            {
                Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
                break;
            }

            Assert.True(DateTime.UtcNow < deadline, "/readyz never reported Redis as degraded.");
            await Task.Delay(20);
        }
    }
}
