using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

namespace AiEdge.Middleware.Docs.Tests.Snippets;

/// <summary>docs/redis.md.</summary>
public static class RedisSnippets
{
    public static void Configure(WebApplicationBuilder builder)
    {
        #region redis-1
        builder.Services.AddAiEdge(edge => edge
            .AddRateLimiting()
            .AddPredictionCache()
            .AddIdempotency()
            .AddRedis());            // reads AiEdge:Redis; a no-op without a Redis connection to use
        #endregion
    }

    public static async Task ReuseAsync(WebApplicationBuilder builder)
    {
        #region redis-2
        var multiplexer = await ConnectionMultiplexer.ConnectAsync(builder.Configuration.GetConnectionString("redis")!);
        builder.Services.AddSingleton<IConnectionMultiplexer>(multiplexer);     // the app's, reused by AiEdge
        builder.Services.AddAiEdge(edge => edge.AddRateLimiting().AddRedis());
        #endregion
    }
}
