using System.Text;
using AiEdge.Middleware.Caching;
using AiEdge.Middleware.Redis.Internal;
using AiEdge.Middleware.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Caching.StackExchangeRedis;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

namespace AiEdge.Middleware.Redis.Tests;

/// <summary>The app's cache stays the app's: AddRedis never replaces it, and the prediction cache keeps its entries there.</summary>
public sealed class RedisAppCacheTests(RedisServerFixture redis) : IClassFixture<RedisServerFixture>
{
    private static readonly TimeSpan Timeout = RedisTestConnections.Timeout;

    private Task<TestApp> StartAsync(bool appCache, IDictionary<string, string?>? settings = null)
        => TestApp.StartAsync(
            builder =>
            {
                if (appCache)
                {
                    builder.Services.AddStackExchangeRedisCache(o =>
                    {
                        o.Configuration = redis.Configuration;
                        o.InstanceName = "myapp:";
                    });
                }

                builder.Services.AddAiEdgeCore(static edge => edge
                    .AddPredictionCache(static o => o.Anonymous = AnonymousCaching.Shared)
                    .AddRedis());
            },
            static app =>
            {
                app.UseAiEdge();
                app.MapPost("/predict", static async (HttpContext context) =>
                {
                    using var reader = new StreamReader(context.Request.Body);
                    return Results.Json(new { input = await reader.ReadToEndAsync(), invocation = Guid.NewGuid().ToString("n") });
                }).WithPredictionCache();
            },
            new Dictionary<string, string?>(settings ?? new Dictionary<string, string?>())
            {
                ["AiEdge:Redis:Configuration"] = redis.Configuration,
            });

    private async Task<string[]> KeysAsync()
    {
        await using var admin = await RedisTestConnections.ConnectAsync(redis.Configuration + ",allowAdmin=true");
        return [.. (await admin.ExecuteAsync("KEYS", "*").WaitAsync(Timeout)).Items!.Select(static k => k.ToString()!)];
    }

    private async Task FlushAsync() => Assert.Contains("OK", await redis.CommandAsync("FLUSHALL"));

    [Fact]
    public async Task AppRegisteredRedisCache_StaysTheAppsAndHoldsThePredictionCacheEntriesUnderItsInstanceName()
    {
        await FlushAsync();
        await using var a = await StartAsync(appCache: true);
        await using var b = await StartAsync(appCache: true);
        var cache = a.Services.GetRequiredService<IDistributedCache>();
        await cache.SetStringAsync("own", "mine").WaitAsync(Timeout);

        using var miss = await a.Client.PostAsync("/predict", new StringContent("{\"input\":\"x\"}", Encoding.UTF8, "application/json")).WaitAsync(Timeout);
        using var hit = await b.Client.PostAsync("/predict", new StringContent("{\"input\":\"x\"}", Encoding.UTF8, "application/json")).WaitAsync(Timeout);
        var keys = await KeysAsync();

        Assert.IsAssignableFrom<RedisCache>(cache);
        Assert.Null(a.Services.GetService<IConnectionMultiplexer>());
        Assert.Equal("MISS", miss.Headers.GetValues("X-Cache").Single());
        Assert.Equal("HIT", hit.Headers.GetValues("X-Cache").Single());
        Assert.Contains("myapp:own", keys);
        var entry = Assert.Single(keys, static k => k.Contains("cache:", StringComparison.Ordinal));
        Assert.StartsWith("myapp:aiedge:cache:{", entry, StringComparison.Ordinal);
        Assert.All(keys, static k => Assert.False(k.Replace("myapp:", "", StringComparison.Ordinal).IndexOf("aiedge:", 1, StringComparison.Ordinal) >= 0, "Two AiEdge prefixes: " + k));
        Assert.IsType<AppCachePredictionCacheStore>(a.Services.GetRequiredService<IPredictionCacheStore>());
    }

    [Fact]
    public async Task NoAppCache_EntriesInAiEdgesOwnKeysWithOnePrefix_AndNoIDistributedCacheIsRegistered()
    {
        await FlushAsync();
        await using var a = await StartAsync(appCache: false);
        await using var b = await StartAsync(appCache: false);

        using var miss = await a.Client.PostAsync("/predict", new StringContent("{\"input\":\"y\"}", Encoding.UTF8, "application/json")).WaitAsync(Timeout);
        using var hit = await b.Client.PostAsync("/predict", new StringContent("{\"input\":\"y\"}", Encoding.UTF8, "application/json")).WaitAsync(Timeout);
        var keys = await KeysAsync();

        Assert.Null(a.Services.GetService<IDistributedCache>());
        Assert.Equal("HIT", hit.Headers.GetValues("X-Cache").Single());
        var entry = Assert.Single(keys);
        Assert.StartsWith("aiedge:cache:{", entry, StringComparison.Ordinal);
        Assert.IsType<RedisPredictionCacheStore>(a.Services.GetRequiredService<IPredictionCacheStore>());
    }

    [Fact]
    public async Task AppRegisteredCache_UseAppDistributedCacheFalse_EntriesStayInAiEdgesKeys()
    {
        await FlushAsync();
        await using var a = await StartAsync(appCache: true, new Dictionary<string, string?> { ["AiEdge:Redis:UseAppDistributedCache"] = "false" });

        using var miss = await a.Client.PostAsync("/predict", new StringContent("{\"input\":\"z\"}", Encoding.UTF8, "application/json")).WaitAsync(Timeout);
        var keys = await KeysAsync();

        Assert.IsAssignableFrom<RedisCache>(a.Services.GetRequiredService<IDistributedCache>());
        Assert.StartsWith("aiedge:cache:{", Assert.Single(keys), StringComparison.Ordinal);
    }
}
