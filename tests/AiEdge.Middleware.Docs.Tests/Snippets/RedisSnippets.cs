using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

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
}
