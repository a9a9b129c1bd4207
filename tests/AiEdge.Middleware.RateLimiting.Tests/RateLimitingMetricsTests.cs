using System.Diagnostics;
using AiEdge.Middleware.RateLimiting.Internal;
using AiEdge.Middleware.Testing;
using Microsoft.AspNetCore.Http;
using Tags = AiEdge.Middleware.AiEdgeDiagnostics.Tags;

namespace AiEdge.Middleware.RateLimiting.Tests;

/// <summary>Each rate-limit decision produces the right measurement, tags, activity tags and access-log values.</summary>
public sealed class RateLimitingMetricsTests
{
    [Theory]
    [InlineData("admitted")]
    [InlineData("delayed")]
    [InlineData("rejected")]
    [InlineData("dry_run")]
    public void RateLimitDecision_CountsByTierAndDecision(string decision)
    {
        using var collector = new MetricsCollector();
        new RateLimitingMetrics(collector.MeterFactory).RateLimitDecision(null, "predict", decision);
        var recorded = collector.Single("aiedge.ratelimit.requests");
        Assert.Equal(1, recorded.Value);
        Assert.Equal("{request}", recorded.Unit);
        MetricsCollector.AssertTags(recorded, (Tags.Tier, "predict"), (Tags.RateLimitDecision, decision));
    }

    [Fact]
    public void RetryAfterAndTokens_RecordedByTier()
    {
        using var collector = new MetricsCollector();
        var metrics = new RateLimitingMetrics(collector.MeterFactory);
        metrics.RetryAfterIssued("generate", 3);
        metrics.TokensCharged("generate", 120, 880);
        metrics.RateLimitTableFull("generate");

        var retry = collector.Single("aiedge.ratelimit.retry_after");
        Assert.Equal(3, retry.Value);
        Assert.Equal("s", retry.Unit);
        MetricsCollector.AssertTags(retry, (Tags.Tier, "generate"));
        var used = collector.Single("aiedge.ratelimit.tokens.used");
        Assert.Equal(120, used.Value);
        MetricsCollector.AssertTags(used, (Tags.Tier, "generate"));
        var remaining = collector.Single("aiedge.ratelimit.tokens.remaining");
        Assert.Equal(880, remaining.Value);
        Assert.Equal("Gauge`1", remaining.Kind);
        MetricsCollector.AssertTags(collector.Single("aiedge.ratelimit.table_full"), (Tags.Tier, "generate"));
    }

    [Fact]
    public void Partitions_SummedFromRegisteredSources()
    {
        using var collector = new MetricsCollector();
        var metrics = new RateLimitingMetrics(collector.MeterFactory);
        collector.Observe();
        Assert.DoesNotContain(collector.Measurements, m => m.Instrument == "aiedge.ratelimit.partitions");

        metrics.AddRateLimitPartitionSource(static () => 3);
        metrics.AddRateLimitPartitionSource(static () => 4);
        collector.Observe();

        Assert.Equal(7, collector.Single("aiedge.ratelimit.partitions").Value);
    }

    [Fact]
    public void Decision_TagsTheRequestActivity_AndRecordsItForTheAccessLog()
    {
        using var source = new ActivitySource("AiEdge.Tests.Server." + Guid.NewGuid().ToString("n"));
        using var listener = new ActivityListener
        {
            ShouldListenTo = s => s == source,
            Sample = static (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
        };
        ActivitySource.AddActivityListener(listener);
        using var collector = new MetricsCollector();
        var context = new DefaultHttpContext();
        var decisions = new AiEdgeDecisionsFeature();
        context.Features.Set(decisions);

        using (var activity = source.StartActivity("POST /v1/predict", ActivityKind.Server))
        {
            Assert.NotNull(activity);
            new RateLimitingMetrics(collector.MeterFactory).RateLimitDecision(context, "predict", "admitted");
            Assert.Equal("predict", activity.GetTagItem(Tags.Tier));
            Assert.Equal("admitted", activity.GetTagItem(Tags.RateLimitDecision));
        }

        Assert.Equal("predict", decisions.Get(Tags.Tier));
        Assert.Equal("admitted", decisions.Get(Tags.RateLimitDecision));
    }
}
