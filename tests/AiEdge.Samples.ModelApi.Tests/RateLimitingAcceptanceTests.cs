using System.Net;
using System.Net.Http.Json;
using AiEdge.Middleware.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace AiEdge.Samples.ModelApi.Tests;

/// <summary>The contract's tiers, driven from outside with the clock held still.</summary>
public sealed class RateLimitingAcceptanceTests
{
    private static (ModelApiFactory Factory, HttpClient Client) Start(TimeProvider time, params (string Key, string Value)[] settings)
    {
        var configuration = new Dictionary<string, string?> { ["Sample:TokenDelayMs"] = "0" };
        foreach (var (key, value) in settings)
        {
            configuration[key] = value;
        }

        var factory = new ModelApiFactory(configuration);
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
        var time = new FakeTimeProvider(TestClock.Start);
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
        time.Advance(TimeSpan.FromMilliseconds(100));
        using var again = await PredictAsync(client);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
    }

    [Fact]
    public async Task Predict_CacheHits_CarryNoAgeAndTheRateLimitFieldsOfTheirOwnDecision()
    {
        var time = new FakeTimeProvider(TestClock.Start);
        var (factory, client) = Start(time);
        await using var _ = factory;
        using var __ = client;

        using (var miss = await PredictAsync(client))
        {
            Assert.Equal("MISS", Header(miss, "X-Cache"));
            Assert.Equal("\"predict\";r=20;t=1", Header(miss, "RateLimit"));
        }

        // Ten seconds later the entry is replayed without Age (a client following the RateLimit draft ignores the
        // fields of a response with a positive age): each replay reports the quota after its own admission (a stored
        // copy of the miss's fields would say r=20 every time).
        time.Advance(TimeSpan.FromSeconds(10));
        var values = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            using var hit = await PredictAsync(client);
            Assert.Equal("HIT", Header(hit, "X-Cache"));
            Assert.False(hit.Headers.Contains("Age"));
            Assert.Equal("\"predict\";q=21;w=3", Header(hit, "RateLimit-Policy"));
            values.Add(Header(hit, "RateLimit"));
        }

        Assert.Equal(["\"predict\";r=20;t=1", "\"predict\";r=19;t=1", "\"predict\";r=18;t=1"], values);
    }

    [Fact]
    public async Task Predict_CacheHitsWithSendAge_CarryAgeBesideTheRateLimitFields()
    {
        var time = new FakeTimeProvider(TestClock.Start);
        var (factory, client) = Start(time, ("AiEdge:Caching:SendAge", "true"));
        await using var _ = factory;
        using var __ = client;

        using (var miss = await PredictAsync(client))
        {
            Assert.Equal("MISS", Header(miss, "X-Cache"));
            Assert.False(miss.Headers.Contains("Age"));
        }

        time.Advance(TimeSpan.FromSeconds(10));
        using var hit = await PredictAsync(client);

        Assert.Equal("HIT", Header(hit, "X-Cache"));
        Assert.Equal(TimeSpan.FromSeconds(10), hit.Headers.Age);
        Assert.Equal("\"predict\";q=21;w=3", Header(hit, "RateLimit-Policy"));
        Assert.Equal("\"predict\";r=20;t=1", Header(hit, "RateLimit"));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Predict_StaleAnswer_CarriesTheRateLimitFieldsAndAgeOnlyWithSendAge(bool sendAge)
    {
        // delay_ms is left out of the key, so a request that makes the model wait finds the entry of one that did not;
        // while the clock fails to make timers, that wait throws: the model is down.
        var time = new FailingTimersTimeProvider();
        var (factory, client) = Start(time, ("AiEdge:Caching:ExcludedJsonFields:9", "delay_ms"), ("AiEdge:Caching:SendAge", sendAge ? "true" : "false"));
        await using var _ = factory;
        using var __ = client;

        using (var miss = await client.PostAsJsonAsync("/v1/predict", new { model = "m", input = "stale", delay_ms = 0 }).WaitAsync(TimeSpan.FromSeconds(30)))
        {
            Assert.Equal("MISS", Header(miss, "X-Cache"));
        }

        // Past the 5 minute duration, inside the 1 minute stale-if-error grace.
        time.Clock.Advance(TimeSpan.FromSeconds(330));
        time.Failing = true;
        using var stale = await client.PostAsJsonAsync("/v1/predict", new { model = "m", input = "stale", delay_ms = 5 }).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(HttpStatusCode.OK, stale.StatusCode);
        Assert.Equal("STALE", Header(stale, "X-Cache"));
        Assert.Equal(sendAge ? TimeSpan.FromSeconds(330) : null, stale.Headers.Age);
        Assert.Equal(sendAge, stale.Headers.Contains("Age"));
        Assert.Equal("\"predict\";q=21;w=3", Header(stale, "RateLimit-Policy"));
        Assert.Equal("\"predict\";r=20;t=1", Header(stale, "RateLimit"));
    }

    [Fact]
    public async Task Train_OnePerMinute_SecondRequestWaitsAsNginxWould()
    {
        var time = new FakeTimeProvider(TestClock.Start);
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
        var time = new FakeTimeProvider(TestClock.Start);
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
        var time = new FakeTimeProvider(TestClock.Start);
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

    /// <summary>The fake clock, except that creating a timer throws while <see cref="Failing"/> is set.</summary>
    private sealed class FailingTimersTimeProvider : TimeProvider
    {
        public FakeTimeProvider Clock { get; } = new(TestClock.Start);

        public bool Failing { get; set; }

        public override long TimestampFrequency => Clock.TimestampFrequency;

        public override DateTimeOffset GetUtcNow() => Clock.GetUtcNow();

        public override long GetTimestamp() => Clock.GetTimestamp();

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
            => Failing ? throw new InvalidOperationException("The model is down.") : Clock.CreateTimer(callback, state, dueTime, period);
    }
}
