using System.Net;
using AiEdge.Middleware.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace AiEdge.Middleware.ReverseProxy.Tests;

/// <summary>
/// Two gateway replicas over one real redis-server: a destination that answers 503 with <c>Retry-After</c> through
/// one replica is left alone by the other until the cool-down ends, on the replicas' clock.
/// </summary>
public sealed class SharedCooldownTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private RedisServerFixture _redis = null!;

    public async Task InitializeAsync() => _redis = await RedisServerFixture.StartAsync();

    public Task DisposeAsync() => _redis.DisposeAsync();

    [Fact]
    public async Task Destination_cooled_down_through_one_replica_is_left_alone_by_the_other_until_the_cooldown_ends()
    {
        await using var busy = await FakeModelServer.StartAsync("gpu-busy");
        await using var idle = await FakeModelServer.StartAsync("gpu-idle");
        busy.Status = 503;
        busy.RetryAfterSeconds = 30;
        var clock = new FakeTimeProvider(TestClock.Start);
        await using var first = await StartReplicaAsync(clock, busy, idle);
        await using var second = await StartReplicaAsync(clock, busy, idle);

        // Round-robin: within two calls the first replica reaches the busy destination, which asks for 30 s.
        for (var i = 0; i < 2 && busy.Requests.IsEmpty; i++)
        {
            using var response = await first.Client.GetAsync("/v1/models").WaitAsync(Timeout);
        }

        Assert.Single(busy.Requests);
        Assert.Contains("d0", await _redis.CommandAsync("HGETALL aiedge:cooldown:{vllm}"));

        // The second replica never saw that answer, yet never sends to the busy destination while it cools down.
        clock.Advance(TimeSpan.FromSeconds(29));
        for (var i = 0; i < 10; i++)
        {
            using var response = await second.Client.GetAsync("/v1/models").WaitAsync(Timeout);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.Single(busy.Requests);

        // The cool-down over, both destinations take calls again.
        busy.Status = 0;
        clock.Advance(TimeSpan.FromSeconds(1));
        for (var i = 0; i < 4; i++)
        {
            using var response = await second.Client.GetAsync("/v1/models").WaitAsync(Timeout);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.True(busy.Requests.Count > 1, "the busy destination should be back in rotation");
    }

    [Fact]
    public async Task Redis_down_the_replica_that_saw_the_answer_still_cools_the_destination_down()
    {
        await using var busy = await FakeModelServer.StartAsync("gpu-busy");
        await using var idle = await FakeModelServer.StartAsync("gpu-idle");
        busy.Status = 503;
        busy.RetryAfterSeconds = 30;
        var clock = new FakeTimeProvider(TestClock.Start);
        await using var replica = await StartReplicaAsync(clock, busy, idle);
        _redis.Kill();

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 10; i++)
        {
            using var response = await replica.Client.GetAsync("/v1/models").WaitAsync(Timeout);
            statuses.Add(response.StatusCode);
        }

        Assert.Single(busy.Requests);
        Assert.Equal(9, statuses.Count(static s => s == HttpStatusCode.OK));
    }

    private Task<TestApp> StartReplicaAsync(FakeTimeProvider clock, params FakeModelServer[] destinations)
    {
        var settings = new Dictionary<string, string?>
        {
            ["AiEdge:Redis:Configuration"] = _redis.Configuration,
            ["ReverseProxy:Clusters:vllm:LoadBalancingPolicy"] = "RoundRobin",
        };
        ProxyGateway.Route(settings, "models", "/v1/models", "vllm");
        ProxyGateway.Cluster(settings, "vllm", [.. destinations.Select(static d => d.BaseAddress)]);
        return TestApp.StartKestrelAsync(
            builder =>
            {
                builder.Services.AddSingleton<TimeProvider>(clock);
                builder.Services.AddAiEdge(static edge => edge.AddRedis());
                builder.Services.AddReverseProxy().LoadFromConfig(builder.Configuration.GetSection("ReverseProxy")).AddAiEdge();
            },
            static app =>
            {
                app.UseAiEdge();
                app.MapAiEdgeReverseProxy();
            },
            settings);
    }
}
