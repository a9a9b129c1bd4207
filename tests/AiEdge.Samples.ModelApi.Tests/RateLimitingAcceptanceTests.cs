using System.Net;
using System.Net.Http.Json;
using AiEdge.Middleware.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace AiEdge.Samples.ModelApi.Tests;

/// <summary>The contract's tiers, driven from outside with the clock held still.</summary>
public sealed class RateLimitingAcceptanceTests
{
    private static (ModelApiFactory Factory, HttpClient Client) Start(ManualTimeProvider time)
    {
        var factory = new ModelApiFactory(new Dictionary<string, string?> { ["Sample:TokenDelayMs"] = "0" });
        var client = factory
            .WithWebHostBuilder(builder => builder.ConfigureTestServices(services => services.AddSingleton<TimeProvider>(time)))
            .CreateClient();
        return (factory, client);
    }

    private static Task<HttpResponseMessage> PredictAsync(HttpClient client)
        => client.PostAsJsonAsync("/v1/predict", new { model = "m", input = "I love this great API" }).WaitAsync(TimeSpan.FromSeconds(30));

    private static string Header(HttpResponseMessage response, string name)
        => response.Headers.TryGetValues(name, out var values) ? string.Join(", ", values) : string.Empty;

    [Fact]
    public async Task Predict_TenPerSecondBurstTwenty_Admits21ThenAnswers429WithRetryAfterAndProblem()
    {
        var time = new ManualTimeProvider();
        var (factory, client) = Start(time);
        await using var _ = factory;
        using var __ = client;

        for (var i = 0; i < 21; i++)
        {
            using var ok = await PredictAsync(client);
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
            Assert.Equal("\"predict\";q=21;w=3", Header(ok, "RateLimit-Policy"));
            Assert.StartsWith("\"predict\";r=" + (20 - i) + ";t=", Header(ok, "RateLimit"));
        }

        using var rejected = await PredictAsync(client);

        var problem = await ProblemAssert.IsProblemAsync(rejected, HttpStatusCode.TooManyRequests);
        Assert.Equal("https://iana.org/assignments/http-problem-types#quota-exceeded", problem.GetProperty("type").GetString());
        Assert.Equal("predict", problem.GetProperty("violated-policies")[0].GetString());
        Assert.Equal("1", Header(rejected, "Retry-After"));
        Assert.StartsWith("\"predict\";r=0;", Header(rejected, "RateLimit"));

        // One request drains every 100 ms.
        time.AdvanceMilliseconds(100);
        using var again = await PredictAsync(client);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
    }

    [Fact]
    public async Task Predict_CacheHitsWithAge_CarryTheRateLimitFieldsOfTheirOwnDecision()
    {
        var time = new ManualTimeProvider();
        var (factory, client) = Start(time);
        await using var _ = factory;
        using var __ = client;

        using (var miss = await PredictAsync(client))
        {
            Assert.Equal("MISS", Header(miss, "X-Cache"));
            Assert.Equal("\"predict\";r=20;t=1", Header(miss, "RateLimit"));
        }

        // Ten seconds later the entry is replayed with Age: each replay reports the quota after its own admission
        // (a stored copy of the miss's fields would say r=20 every time).
        time.Advance(TimeSpan.FromSeconds(10));
        var values = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            using var hit = await PredictAsync(client);
            Assert.Equal("HIT", Header(hit, "X-Cache"));
            Assert.True(hit.Headers.Age >= TimeSpan.FromSeconds(10));
            Assert.Equal("\"predict\";q=21;w=3", Header(hit, "RateLimit-Policy"));
            values.Add(Header(hit, "RateLimit"));
        }

        Assert.Equal(["\"predict\";r=20;t=1", "\"predict\";r=19;t=1", "\"predict\";r=18;t=1"], values);
    }

    [Fact]
    public async Task Train_OnePerMinute_SecondRequestWaitsAsNginxWould()
    {
        var time = new ManualTimeProvider();
        var (factory, client) = Start(time);
        await using var _ = factory;
        using var __ = client;

        using var first = await client.PostAsJsonAsync("/v1/train", new { dataset = "d" }).WaitAsync(TimeSpan.FromSeconds(30));
        using var second = await client.PostAsJsonAsync("/v1/train", new { dataset = "d" }).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        await ProblemAssert.IsProblemAsync(second, HttpStatusCode.TooManyRequests);

        // NGINX keeps 1r/m as 16 milli-requests per second: 62.5 s.
        Assert.Equal("63", Header(second, "Retry-After"));
    }

    [Fact]
    public async Task ChatCompletions_AdvertisesRequestAndTokenBudgets()
    {
        var time = new ManualTimeProvider();
        var (factory, client) = Start(time);
        await using var _ = factory;
        using var __ = client;

        using var response = await client.PostAsJsonAsync("/v1/chat/completions", new { model = "toy", max_tokens = 5, messages = new[] { new { role = "user", content = "hello" } } })
            .WaitAsync(TimeSpan.FromSeconds(30));
        await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("\"generate\";q=6;w=3;aiedge-token-quota=100000;aiedge-token-window=60", Header(response, "RateLimit-Policy"));
        Assert.Matches("^\"generate\";r=5;t=1;aiedge-tokens=\\d+$", Header(response, "RateLimit"));
    }

    [Fact]
    public async Task HealthEndpoints_AreNeverLimited()
    {
        var time = new ManualTimeProvider();
        var (factory, client) = Start(time);
        await using var _ = factory;
        using var __ = client;

        for (var i = 0; i < 40; i++)
        {
            using var response = await client.GetAsync(i % 2 == 0 ? "/healthz" : "/readyz").WaitAsync(TimeSpan.FromSeconds(30));
            Assert.NotEqual(HttpStatusCode.TooManyRequests, response.StatusCode);
            Assert.False(response.Headers.Contains("RateLimit"));
        }
    }
}
