using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using AiEdge.Middleware.RateLimiting;
using AiEdge.Middleware.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace AiEdge.Middleware.Authentication.Tests;

/// <summary>
/// A real host with API keys, JWTs from two issuers, the prediction cache, idempotency and rate limiting (in memory
/// and on a real redis-server): no identity reaches another's cache entries, idempotency records or buckets, however
/// a token spells its subject or whatever claims it carries.
/// </summary>
public sealed class CallerIsolationIntegrationTests(RedisServerFixture redis) : IClassFixture<RedisServerFixture>
{
    private const string OtherIssuer = "https://other-issuer.example";
    private const string KeyName = "pro-app";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    public static TheoryData<bool> Stores => [false, true];

    /// <summary>Tokens that try to pass for the API key <see cref="KeyName"/>, each a distinct identity.</summary>
    private static (string Name, string Token)[] Posers() =>
    [
        ("sub equals the key name", TestKeys.Token(subject: KeyName)),
        ("sub spells the key's caller id", TestKeys.Token(subject: "key:" + KeyName)),
        ("sub equals the key name, other issuer", TestKeys.Token(issuer: OtherIssuer, subject: KeyName)),
        ("key claims beside another sub", TestKeys.Token(subject: "mallory", claims: new Dictionary<string, object>
        {
            [AiEdgeClaimTypes.ApiKeyName] = KeyName,
            [System.Security.Claims.ClaimTypes.NameIdentifier] = KeyName,
        })),
        ("key claim and no sub", NoSubjectToken(KeyName)),
    ];

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task PredictionCache_TokenPosingAsApiKey_NeverGetsTheKeysEntry(bool useRedis)
    {
        await using var app = await StartAsync(useRedis);
        var first = await PredictAsync(app, apiKey: TestKeys.ProKey);

        foreach (var (name, token) in Posers())
        {
            var posed = await PredictAsync(app, bearer: token);
            Assert.True(posed.Run != first.Run, name + " was served the key's cached prediction");
            Assert.NotEqual("HIT", posed.Cache);
        }

        var again = await PredictAsync(app, apiKey: TestKeys.ProKey);
        Assert.Equal(("HIT", first.Run), (again.Cache, again.Run));
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task Idempotency_TokenPosingAsApiKey_IsNotReplayedTheKeysRecord(bool useRedis)
    {
        await using var app = await StartAsync(useRedis);
        var first = await TrainAsync(app, apiKey: TestKeys.ProKey);
        Assert.Equal(HttpStatusCode.Accepted, first.Status);

        foreach (var (name, token) in Posers())
        {
            var posed = await TrainAsync(app, bearer: token);
            Assert.True(!posed.Replayed && posed.Job != first.Job, name + " was replayed the key's idempotency record");
            Assert.Equal(HttpStatusCode.Accepted, posed.Status);
        }

        var again = await TrainAsync(app, apiKey: TestKeys.ProKey);
        Assert.True(again.Replayed);
        Assert.Equal(first.Job, again.Job);
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task RateLimit_CallerPartition_TokenPosingAsApiKey_HasItsOwnBucket(bool useRedis)
    {
        await using var app = await StartAsync(useRedis);
        Assert.Equal(HttpStatusCode.OK, await GetAsync(app, "/by-caller", apiKey: TestKeys.ProKey));
        Assert.Equal(HttpStatusCode.TooManyRequests, await GetAsync(app, "/by-caller", apiKey: TestKeys.ProKey));

        foreach (var (name, token) in Posers())
        {
            Assert.True(await GetAsync(app, "/by-caller", bearer: token) == HttpStatusCode.OK, name + " was charged to the key's bucket");
        }
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task RateLimit_ApiKeyPartition_TokenCarryingTheKeyClaim_IsNotChargedAsTheKey(bool useRedis)
    {
        await using var app = await StartAsync(useRedis);
        Assert.Equal(HttpStatusCode.OK, await GetAsync(app, "/by-key", apiKey: TestKeys.ProKey));
        Assert.Equal(HttpStatusCode.TooManyRequests, await GetAsync(app, "/by-key", apiKey: TestKeys.ProKey));

        // A token is no API key: it falls back to its address partition, which it has to itself here.
        Assert.Equal(HttpStatusCode.OK, await GetAsync(app, "/by-key", bearer: NoSubjectToken(KeyName)));
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task TwoIssuers_SameSubject_AreSeparateCallers(bool useRedis)
    {
        await using var app = await StartAsync(useRedis);
        var fromFirst = TestKeys.Token(subject: "alice");
        var fromOther = TestKeys.Token(issuer: OtherIssuer, subject: "alice");

        var prediction = await PredictAsync(app, bearer: fromFirst);
        var otherPrediction = await PredictAsync(app, bearer: fromOther);
        var job = await TrainAsync(app, bearer: fromFirst);
        var otherJob = await TrainAsync(app, bearer: fromOther);
        var limited = await GetAsync(app, "/by-caller", bearer: fromFirst);
        var otherLimited = await GetAsync(app, "/by-caller", bearer: fromOther);

        Assert.NotEqual(prediction.Run, otherPrediction.Run);
        Assert.NotEqual("HIT", otherPrediction.Cache);
        Assert.False(otherJob.Replayed);
        Assert.NotEqual(job.Job, otherJob.Job);
        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK), (limited, otherLimited));
        var repeated = await PredictAsync(app, bearer: fromFirst);
        Assert.Equal(("HIT", prediction.Run), (repeated.Cache, repeated.Run));
        Assert.Equal(HttpStatusCode.TooManyRequests, await GetAsync(app, "/by-caller", bearer: fromOther));
    }

    [Fact]
    public async Task CallerId_OfEachSource_IsQualifiedBySource()
    {
        await using var app = await StartAsync(useRedis: false);

        Assert.Equal("key:pro-app", await WhoAmIAsync(app, apiKey: TestKeys.ProKey));
        Assert.Equal("jwt:22:https://issuer.example:pro-app", await WhoAmIAsync(app, bearer: TestKeys.Token(subject: KeyName)));
        Assert.Equal("jwt:28:https://other-issuer.example:pro-app", await WhoAmIAsync(app, bearer: TestKeys.Token(issuer: OtherIssuer, subject: KeyName)));
        Assert.Null(await WhoAmIAsync(app, bearer: NoSubjectToken(KeyName)));
        Assert.Null(await WhoAmIAsync(app));
    }

    /// <summary>An HS256 token of the configured issuer that carries the API key claim and no <c>sub</c>.</summary>
    private static string NoSubjectToken(string keyName) => TestKeys.Handmade(
        new { alg = "HS256", typ = "JWT" },
        new Dictionary<string, object>
        {
            ["iss"] = TestKeys.Issuer,
            ["aud"] = TestKeys.Audience,
            ["nbf"] = TestKeys.Now.ToUnixTimeSeconds(),
            ["exp"] = TestKeys.Now.AddHours(1).ToUnixTimeSeconds(),
            [AiEdgeClaimTypes.ApiKeyName] = keyName,
            [AiEdgeClaimTypes.Plan] = "pro",
        },
        static input => HMACSHA256.HashData(TestKeys.Secret, input));

    private async Task<TestApp> StartAsync(bool useRedis)
    {
        var configuration = TestKeys.Configuration();
        configuration["AiEdge:Authentication:Jwt:ValidIssuers:1"] = OtherIssuer;
        if (useRedis)
        {
            configuration["AiEdge:Redis:Configuration"] = redis.Configuration;
            configuration["AiEdge:Redis:KeyPrefix"] = "isolation-" + Guid.NewGuid().ToString("n") + ":";
        }

        var time = new FakeTimeProvider(TestKeys.Now);
        var runs = new int[1];
        return await TestApp.StartAsync(
            builder =>
            {
                builder.Services.AddSingleton<TimeProvider>(time);
                builder.Services.AddAiEdgeCore(edge =>
                {
                    edge.AddEdgeAuthentication();
                    edge.AddPredictionCache();
                    edge.AddIdempotency();
                    edge.AddRateLimiting(o => o
                        .AddTier("caller", static t =>
                        {
                            t.Rate = "1r/m";
                            t.Partition = RateLimitPartitionKind.Caller;
                        })
                        .AddTier("key", static t =>
                        {
                            t.Rate = "1r/m";
                            t.Partition = RateLimitPartitionKind.ApiKey;
                        }));
                    if (useRedis)
                    {
                        edge.AddRedis();
                    }
                });
            },
            app =>
            {
                app.UseAiEdge();
                app.MapPost("/predict", () => Results.Ok(new { run = Interlocked.Increment(ref runs[0]) })).WithPredictionCache();
                app.MapPost("/train", () => Results.Accepted(value: new { job = Guid.NewGuid().ToString("n") })).WithIdempotency();
                app.MapGet("/by-caller", () => "ok").WithRateLimitTier("caller");
                app.MapGet("/by-key", () => "ok").WithRateLimitTier("key");
                app.MapGet("/whoami", (HttpContext context) => Results.Ok(new { id = context.GetCallerId() }));
            },
            configuration);
    }

    private static HttpRequestMessage Request(HttpMethod method, string path, string? apiKey, string? bearer, string? json = null)
    {
        var request = new HttpRequestMessage(method, path);
        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }

        if (apiKey is not null)
        {
            request.Headers.TryAddWithoutValidation("X-API-Key", apiKey);
        }

        if (bearer is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + bearer);
        }

        return request;
    }

    private static async Task<(int Run, string? Cache)> PredictAsync(TestApp app, string? apiKey = null, string? bearer = null)
    {
        using var request = Request(HttpMethod.Post, "/predict", apiKey, bearer, "{\"model\":\"m\",\"input\":\"same for everyone\"}");
        using var response = await app.Client.SendAsync(request).WaitAsync(Timeout);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return (body.RootElement.GetProperty("run").GetInt32(), response.Headers.TryGetValues("X-Cache", out var cache) ? string.Join(",", cache) : null);
    }

    private static async Task<(HttpStatusCode Status, string? Job, bool Replayed)> TrainAsync(TestApp app, string? apiKey = null, string? bearer = null)
    {
        using var request = Request(HttpMethod.Post, "/train", apiKey, bearer, "{\"dataset\":\"shared\"}");
        request.Headers.TryAddWithoutValidation("Idempotency-Key", "\"job-2026-01-01\"");
        using var response = await app.Client.SendAsync(request).WaitAsync(Timeout);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var job = body.RootElement.TryGetProperty("job", out var value) ? value.GetString() : null;
        return (response.StatusCode, job, response.Headers.TryGetValues("Idempotent-Replayed", out var replayed) && string.Join(",", replayed) == "true");
    }

    private static async Task<HttpStatusCode> GetAsync(TestApp app, string path, string? apiKey = null, string? bearer = null)
    {
        using var request = Request(HttpMethod.Get, path, apiKey, bearer);
        using var response = await app.Client.SendAsync(request).WaitAsync(Timeout);
        return response.StatusCode;
    }

    private static async Task<string?> WhoAmIAsync(TestApp app, string? apiKey = null, string? bearer = null)
    {
        using var request = Request(HttpMethod.Get, "/whoami", apiKey, bearer);
        using var response = await app.Client.SendAsync(request).WaitAsync(Timeout);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var id = body.RootElement.GetProperty("id");
        return id.ValueKind == JsonValueKind.Null ? null : id.GetString();
    }
}
