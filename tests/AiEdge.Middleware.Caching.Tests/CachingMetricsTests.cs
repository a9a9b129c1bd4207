using System.Diagnostics;
using AiEdge.Middleware.Caching.Internal;
using AiEdge.Middleware.Testing;
using Microsoft.AspNetCore.Http;
using Tags = AiEdge.Middleware.AiEdgeDiagnostics.Tags;

namespace AiEdge.Middleware.Caching.Tests;

/// <summary>Each cache and Idempotency-Key decision produces the right measurement, tags, activity tags and access-log values.</summary>
public sealed class CachingMetricsTests
{
    [Theory]
    [InlineData("hit")]
    [InlineData("miss")]
    [InlineData("bypass")]
    [InlineData("stale")]
    public void CacheResult_CountsByStatus(string status)
    {
        using var collector = new MetricsCollector();
        new CachingMetrics(collector.MeterFactory).CacheResult(null, status);
        MetricsCollector.AssertTags(collector.Single("aiedge.cache.requests"), (Tags.CacheStatus, status));
    }

    [Fact]
    public void CacheStoredBytesAndCoalesced()
    {
        using var collector = new MetricsCollector();
        var metrics = new CachingMetrics(collector.MeterFactory);
        metrics.CacheStoredBytes(4096);
        metrics.CacheStoredBytes(-1024);
        metrics.CacheCoalesced();

        var stored = collector.Measurements.Where(m => m.Instrument == "aiedge.cache.stored_bytes").Select(m => m.Value).ToList();
        Assert.Equal([4096d, -1024d], stored);
        Assert.Equal(1, collector.Single("aiedge.cache.coalesced").Value);
    }

    [Fact]
    public void IdempotencyOutcome_Counted()
    {
        using var collector = new MetricsCollector();
        new CachingMetrics(collector.MeterFactory).IdempotencyOutcome(null, "replayed");
        MetricsCollector.AssertTags(collector.Single("aiedge.idempotency.requests"), (Tags.IdempotencyOutcome, "replayed"));
    }

    [Fact]
    public void IdempotencyStore_BytesKeysAndEvictions()
    {
        using var collector = new MetricsCollector();
        var metrics = new CachingMetrics(collector.MeterFactory);
        metrics.IdempotencyStoreChanged(900, 1, 0);
        metrics.IdempotencyStoreChanged(-1800, -2, 2);
        metrics.IdempotencyStoreChanged(0, 0, 0);

        var bytes = collector.Measurements.Where(m => m.Instrument == "aiedge.idempotency.stored_bytes").ToList();
        Assert.Equal([900d, -1800d], bytes.Select(m => m.Value));
        Assert.Equal("By", bytes[0].Unit);
        var keys = collector.Measurements.Where(m => m.Instrument == "aiedge.idempotency.stored_keys").Select(m => m.Value).ToList();
        Assert.Equal([1d, -2d], keys);
        var evictions = collector.Single("aiedge.idempotency.evictions");
        Assert.Equal(2, evictions.Value);
        Assert.Equal("{record}", evictions.Unit);
    }

    [Fact]
    public void Decisions_TagTheRequestActivity_AndAreRecordedForTheAccessLog()
    {
        using var source = new ActivitySource("AiEdge.Tests.Server." + Guid.NewGuid().ToString("n"));
        using var listener = new ActivityListener
        {
            ShouldListenTo = s => s == source,
            Sample = static (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
        };
        ActivitySource.AddActivityListener(listener);
        using var collector = new MetricsCollector();
        var metrics = new CachingMetrics(collector.MeterFactory);
        var context = new DefaultHttpContext();
        var decisions = new AiEdgeDecisionsFeature();
        context.Features.Set(decisions);

        using (var activity = source.StartActivity("POST /v1/predict", ActivityKind.Server))
        {
            Assert.NotNull(activity);
            metrics.CacheResult(context, "miss");
            metrics.IdempotencyOutcome(context, "first");
            Assert.Equal("miss", activity.GetTagItem(Tags.CacheStatus));
            Assert.Equal("first", activity.GetTagItem(Tags.IdempotencyOutcome));
        }

        Assert.Equal("miss", decisions.Get(Tags.CacheStatus));
        Assert.Equal("first", decisions.Get(Tags.IdempotencyOutcome));
    }
}
