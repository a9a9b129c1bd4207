using System.Net;
using System.Text.Json;
using AiEdge.Middleware.Redis.Internal;
using AiEdge.Middleware.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.DependencyInjection;

namespace AiEdge.Middleware.Redis.Tests;

public sealed class RedisRegistrationTests
{
    private static readonly TimeSpan Timeout = RedisTestConnections.Timeout;

    private static Task<TestApp> StartAsync(IDictionary<string, string?> configuration)
        => TestApp.StartAsync(
            builder => builder.Services.AddAiEdgeCore(static edge => edge.AddRedis().AddRedis()),
            static app =>
            {
                app.UseAiEdge();
                app.MapHealthChecks("/readyz");
            },
            configuration);

    private static async Task<(HttpStatusCode Status, string Redis)> ReadyAsync(TestApp app)
    {
        var response = await app.Client.GetAsync("/readyz").WaitAsync(Timeout);
        var body = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, body);
    }

    [Fact]
    public async Task AddRedis_ConfigurationMalformed_FailsAtStartupNamingTheKey()
    {
        var failure = await Assert.ThrowsAnyAsync<Exception>(() => StartAsync(new Dictionary<string, string?>
        {
            ["AiEdge:Redis:Configuration"] = "localhost:6379,password=hunter2,sll=true",
        }).WaitAsync(Timeout));

        Assert.Contains("AiEdge:Redis:Configuration is not valid", failure.Message);
        Assert.Contains("'sll'", failure.Message);
        Assert.DoesNotContain("hunter2", failure.Message);
    }

    [Fact]
    public async Task AddRedis_NotConfigured_IsHealthyAndKeepsStateInMemory()
    {
        await using var app = await StartAsync(new Dictionary<string, string?>());

        var (status, body) = await ReadyAsync(app);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("Healthy", body);
        Assert.Equal(RedisConnectionState.NotConfigured, app.Services.GetRequiredService<IRedisConnection>().State);
        Assert.Null(app.Services.GetService<IDistributedCache>());
    }

    [Fact]
    public async Task Readyz_RedisUpThenKilled_HealthyThenDegradedWhenFailOpen()
    {
        await using var redis = await RedisServerFixture.StartAsync();
        await using var app = await StartAsync(new Dictionary<string, string?> { ["AiEdge:Redis:Configuration"] = redis.Configuration });
        Assert.True(app.Services.GetRequiredService<IRedisConnection>().IsConnected, "Startup waits for the first connection.");

        var up = await ReadyAsync(app);
        redis.Kill();
        await WaitUntilDisconnectedAsync(app);
        var down = await ReadyAsync(app);

        Assert.Equal((HttpStatusCode.OK, "Healthy"), up);
        Assert.Equal((HttpStatusCode.OK, "Degraded"), down);
    }

    [Fact]
    public async Task Readyz_RedisDownAndFailClosed_Is503()
    {
        await using var redis = await RedisServerFixture.StartAsync();
        await using var app = await StartAsync(new Dictionary<string, string?>
        {
            ["AiEdge:Redis:Configuration"] = redis.Configuration,
            ["AiEdge:Redis:FailureMode"] = "FailClosed",
        });

        redis.Kill();
        await WaitUntilDisconnectedAsync(app);
        var down = await ReadyAsync(app);
        await redis.RestartAsync();
        await ((RedisConnection)app.Services.GetRequiredService<IRedisConnection>()).WhenConnectedAsync().WaitAsync(Timeout);
        var back = await ReadyAsync(app);

        Assert.Equal((HttpStatusCode.ServiceUnavailable, "Unhealthy"), down);
        Assert.Equal((HttpStatusCode.OK, "Healthy"), back);
    }

    private static async Task WaitUntilDisconnectedAsync(TestApp app)
    {
        // The reader loop sees the socket close; poll the state, bounded.
        var connection = app.Services.GetRequiredService<IRedisConnection>();
        var deadline = DateTime.UtcNow + Timeout;
        while (connection.IsConnected)
        {
            Assert.True(DateTime.UtcNow < deadline, "The connection never noticed Redis was gone.");
            await Task.Delay(10);
        }
    }
}
