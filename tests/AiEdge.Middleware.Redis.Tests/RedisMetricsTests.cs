using AiEdge.Middleware.Redis.Internal;
using AiEdge.Middleware.Testing;
using Tags = AiEdge.Middleware.AiEdgeDiagnostics.Tags;

namespace AiEdge.Middleware.Redis.Tests;

public sealed class RedisMetricsTests
{
    [Fact]
    public void Redis_CommandsFallbacksAndRejections()
    {
        using var collector = new MetricsCollector();
        var metrics = new RedisMetrics(collector.MeterFactory);
        metrics.RedisCommand("EVALSHA", 0.002, "timeout");
        metrics.RedisFallback("ratelimit");
        metrics.Rejected("redis", "unavailable");

        MetricsCollector.AssertTags(collector.Single("aiedge.redis.duration"), (Tags.Command, "EVALSHA"), (Tags.Outcome, "timeout"));
        MetricsCollector.AssertTags(collector.Single("aiedge.redis.fallbacks"), (Tags.Concern, "ratelimit"));
        MetricsCollector.AssertTags(collector.Single("aiedge.rejections"), (Tags.Concern, "redis"), (Tags.Reason, "unavailable"));
    }
}
