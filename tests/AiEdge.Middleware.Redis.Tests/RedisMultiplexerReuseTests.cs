using System.Net;
using AiEdge.Middleware.Redis.Internal;
using AiEdge.Middleware.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

namespace AiEdge.Middleware.Redis.Tests;

/// <summary>Which multiplexer the suite uses: the app's (registered or keyed), or its own private one.</summary>
public sealed class RedisMultiplexerReuseTests(RedisServerFixture redis) : IClassFixture<RedisServerFixture>
{
    private static readonly TimeSpan Timeout = RedisTestConnections.Timeout;

    private static Task<TestApp> StartAsync(Action<IServiceCollection> services, IDictionary<string, string?> configuration)
        => TestApp.StartAsync(
            builder =>
            {
                services(builder.Services);
                builder.Services.AddAiEdgeCore(static edge => edge.AddRateLimiting().AddRedis());
            },
            static app =>
            {
                app.UseAiEdge();
                app.MapGet("/limited", static () => "ok").WithRateLimitTier("reuse");
                app.MapHealthChecks("/readyz");
            },
            new Dictionary<string, string?>(configuration)
            {
                ["AiEdge:RateLimiting:Tiers:reuse:Rate"] = "1r/m",
                ["AiEdge:RateLimiting:Tiers:reuse:Burst"] = "1",
            });

    [Fact]
    public async Task AddRedis_AppRegisteredAMultiplexer_UsesItAndNeverDisposesIt()
    {
        var appMultiplexer = await ConnectionMultiplexer.ConnectAsync(redis.Configuration);
        await using (var app = await StartAsync(s => s.AddSingleton<IConnectionMultiplexer>(appMultiplexer), new Dictionary<string, string?>()))
        {
            var connection = (RedisConnection)app.Services.GetRequiredService<IRedisConnection>();

            Assert.Same(appMultiplexer, connection.Multiplexer);
            Assert.Equal(RedisConnectionState.Connected, connection.State);
            Assert.Equal("Healthy", await (await app.Client.GetAsync("/readyz").WaitAsync(Timeout)).Content.ReadAsStringAsync());
            await AssertSharedLimitAsync(app);
        }

        Assert.True(appMultiplexer.IsConnected, "The app's multiplexer stays open after the app's host is disposed.");
        await appMultiplexer.DisposeAsync();
    }

    [Fact]
    public async Task AddRedis_ConnectionServiceKey_UsesThatKeyedMultiplexer()
    {
        var keyed = await ConnectionMultiplexer.ConnectAsync(redis.Configuration);
        await using (var app = await StartAsync(
            s => s.AddKeyedSingleton<IConnectionMultiplexer>("edge", keyed),
            new Dictionary<string, string?> { ["AiEdge:Redis:ConnectionServiceKey"] = "edge" }))
        {
            var connection = (RedisConnection)app.Services.GetRequiredService<IRedisConnection>();

            Assert.Same(keyed, connection.Multiplexer);
            Assert.Null(app.Services.GetService<IConnectionMultiplexer>());
        }

        Assert.True(keyed.IsConnected);
        await keyed.DisposeAsync();
    }

    [Fact]
    public async Task AddRedis_Configuration_OwnMultiplexerIsPrivateAndClosedWithTheApp()
    {
        IConnectionMultiplexer? own;
        await using (var app = await StartAsync(static _ => { }, new Dictionary<string, string?> { ["AiEdge:Redis:Configuration"] = redis.Configuration }))
        {
            own = ((RedisConnection)app.Services.GetRequiredService<IRedisConnection>()).Multiplexer;

            Assert.NotNull(own);
            Assert.True(own.IsConnected);
            Assert.Null(app.Services.GetService<IConnectionMultiplexer>());
            await AssertSharedLimitAsync(app);
        }

        Assert.False(own.IsConnected, "The suite closes the multiplexer it made.");
    }

    [Fact]
    public async Task AddRedis_AzureStyleConfigurationWithSeveralEndpoints_ConnectsToTheOneThatAnswers()
    {
        // A dead endpoint first, abortConnect=false as Azure's portal writes it, and the suite's own timeouts.
        var configuration = $"127.0.0.1:1,{redis.Configuration},abortConnect=false,connectTimeout=2000";
        await using var app = await StartAsync(static _ => { }, new Dictionary<string, string?> { ["AiEdge:Redis:Configuration"] = configuration });
        var connection = (RedisConnection)app.Services.GetRequiredService<IRedisConnection>();

        Assert.True(connection.IsConnected);
        await AssertSharedLimitAsync(app);
    }

    /// <summary>The tier admits one request a minute and a burst of one: the third request is refused, and the bucket is in Redis.</summary>
    private async Task AssertSharedLimitAsync(TestApp app)
    {
        await using var admin = await RedisTestConnections.ConnectAsync(redis.Configuration + ",allowAdmin=true");
        foreach (var key in (await admin.ExecuteAsync("KEYS", "aiedge:{rl}:reuse:*").WaitAsync(Timeout)).Items!)
        {
            await admin.ExecuteAsync("DEL", key.ToString()!).WaitAsync(Timeout);
        }

        var first = await app.Client.GetAsync("/limited").WaitAsync(Timeout);
        var burst = await app.Client.GetAsync("/limited").WaitAsync(Timeout);
        var second = await app.Client.GetAsync("/limited").WaitAsync(Timeout);
        var keys = (await admin.ExecuteAsync("KEYS", "aiedge:{rl}:reuse:*").WaitAsync(Timeout)).Items!;

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, burst.StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, second.StatusCode);
        Assert.Single(keys);
    }
}
