using System.Diagnostics;
using AiEdge.Middleware.Internal;
using Microsoft.AspNetCore.Http;
using Tags = AiEdge.Middleware.AiEdgeDiagnostics.Tags;

namespace AiEdge.Middleware.OpenTelemetry.Tests;

/// <summary>Each decision reported through AiEdgeMetrics produces the right measurement, tags, activity tags and access-log fields.</summary>
public sealed class AiEdgeMetricsTests
{
    private static void AssertTags(MetricsCollector.Recorded recorded, params (string Key, object? Value)[] expected)
    {
        Assert.Equal(expected.Length, recorded.Tags.Count);
        foreach (var (key, value) in expected)
        {
            Assert.True(recorded.Tags.TryGetValue(key, out var actual), $"missing tag {key}");
            Assert.Equal(value, actual);
        }
    }

    [Theory]
    [InlineData("admitted")]
    [InlineData("delayed")]
    [InlineData("rejected")]
    [InlineData("dry_run")]
    public void RateLimitDecision_CountsByTierAndDecision(string decision)
    {
        using var collector = new MetricsCollector();
        collector.Metrics.RateLimitDecision(null, "predict", decision);
        var recorded = collector.Single("aiedge.ratelimit.requests");
        Assert.Equal(1, recorded.Value);
        Assert.Equal("{request}", recorded.Unit);
        AssertTags(recorded, (Tags.Tier, "predict"), (Tags.RateLimitDecision, decision));
    }

    [Fact]
    public void RetryAfterAndTokens_RecordedByTier()
    {
        using var collector = new MetricsCollector();
        collector.Metrics.RetryAfterIssued("generate", 3);
        collector.Metrics.TokensCharged("generate", 120, 880);

        var retry = collector.Single("aiedge.ratelimit.retry_after");
        Assert.Equal(3, retry.Value);
        Assert.Equal("s", retry.Unit);
        AssertTags(retry, (Tags.Tier, "generate"));
        var used = collector.Single("aiedge.ratelimit.tokens.used");
        Assert.Equal(120, used.Value);
        AssertTags(used, (Tags.Tier, "generate"));
        var remaining = collector.Single("aiedge.ratelimit.tokens.remaining");
        Assert.Equal(880, remaining.Value);
        Assert.Equal("Gauge`1", remaining.Kind);
    }

    [Theory]
    [InlineData("hit")]
    [InlineData("miss")]
    [InlineData("bypass")]
    [InlineData("stale")]
    public void CacheResult_CountsByStatus(string status)
    {
        using var collector = new MetricsCollector();
        collector.Metrics.CacheResult(null, status);
        AssertTags(collector.Single("aiedge.cache.requests"), (Tags.CacheStatus, status));
    }

    [Fact]
    public void CacheStoredBytesAndCoalesced()
    {
        using var collector = new MetricsCollector();
        collector.Metrics.CacheStoredBytes(4096);
        collector.Metrics.CacheStoredBytes(-1024);
        collector.Metrics.CacheCoalesced();

        var stored = collector.Measurements.Where(m => m.Instrument == "aiedge.cache.stored_bytes").Select(m => m.Value).ToList();
        Assert.Equal([4096d, -1024d], stored);
        Assert.Equal(1, collector.Single("aiedge.cache.coalesced").Value);
    }

    [Fact]
    public void IdempotencyOutcome_Counted()
    {
        using var collector = new MetricsCollector();
        collector.Metrics.IdempotencyOutcome(null, "replayed");
        AssertTags(collector.Single("aiedge.idempotency.requests"), (Tags.IdempotencyOutcome, "replayed"));
    }

    [Fact]
    public void IdempotencyStore_BytesKeysAndEvictions()
    {
        using var collector = new MetricsCollector();
        collector.Metrics.IdempotencyStoreChanged(900, 1, 0);
        collector.Metrics.IdempotencyStoreChanged(-1800, -2, 2);
        collector.Metrics.IdempotencyStoreChanged(0, 0, 0);

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
    public void Streams_OpenDurationFirstEventHeartbeatsDisconnects()
    {
        using var collector = new MetricsCollector();
        collector.Metrics.StreamStarted();
        collector.Metrics.TimeToFirstEvent(0.08);
        collector.Metrics.Heartbeat();
        collector.Metrics.StreamEnded(12.5, clientDisconnected: true);

        var active = collector.Measurements.Where(m => m.Instrument == "aiedge.stream.active").Select(m => m.Value).ToList();
        Assert.Equal([1d, -1d], active);
        Assert.Equal(0.08, collector.Single("aiedge.stream.time_to_first_event").Value);
        Assert.Equal(1, collector.Single("aiedge.stream.heartbeats").Value);
        Assert.Equal(12.5, collector.Single("aiedge.stream.duration").Value);
        AssertTags(collector.Single("aiedge.client.disconnects"), (Tags.Concern, "stream"));
    }

    [Fact]
    public void Breaker_TransitionsAndBackendCalls()
    {
        using var collector = new MetricsCollector();
        collector.Metrics.BreakerTransition("llm", "open");
        collector.Metrics.BackendCall(null, "llm", "replica-a", 0.25, "error", 502);

        AssertTags(collector.Single("aiedge.breaker.transitions"), (Tags.Breaker, "llm"), (Tags.BreakerState, "open"));
        var backend = collector.Single("aiedge.backend.duration");
        Assert.Equal(0.25, backend.Value);
        AssertTags(backend, (Tags.Breaker, "llm"), (Tags.Replica, "replica-a"), (Tags.Outcome, "error"));
    }

    [Fact]
    public void BreakerState_ObservedFromRegisteredSources()
    {
        using var collector = new MetricsCollector();
        collector.Observe();
        Assert.DoesNotContain(collector.Measurements, m => m.Instrument == "aiedge.breaker.state");

        var state = "closed";
        collector.Metrics.AddBreakerStateSource(() => [new("llm", state), new("embeddings", "closed")]);
        state = "open";
        collector.Observe();

        var observed = collector.Measurements.Where(m => m.Instrument == "aiedge.breaker.state").ToList();
        Assert.Equal(2, observed.Count);
        Assert.All(observed, m => Assert.Equal(1, m.Value));
        Assert.Contains(observed, m => Equals(m.Tags[Tags.Breaker], "llm") && Equals(m.Tags[Tags.BreakerState], "open"));
        Assert.Contains(observed, m => Equals(m.Tags[Tags.Breaker], "embeddings") && Equals(m.Tags[Tags.BreakerState], "closed"));
    }

    [Fact]
    public void Redis_CommandsFallbacksAndRejections()
    {
        using var collector = new MetricsCollector();
        collector.Metrics.RedisCommand("EVALSHA", 0.002, "timeout");
        collector.Metrics.RedisFallback("ratelimit");
        collector.Metrics.Rejected("authentication", "invalid_key");

        AssertTags(collector.Single("aiedge.redis.duration"), (Tags.Command, "EVALSHA"), (Tags.Outcome, "timeout"));
        AssertTags(collector.Single("aiedge.redis.fallbacks"), (Tags.Concern, "ratelimit"));
        AssertTags(collector.Single("aiedge.rejections"), (Tags.Concern, "authentication"), (Tags.Reason, "invalid_key"));
    }

    [Fact]
    public void Decisions_TagTheRequestActivity_AndFillTheRequestFeature()
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
        var feature = new EdgeRequestFeature();
        context.Features.Set(feature);

        using (var activity = source.StartActivity("POST /v1/predict", ActivityKind.Server))
        {
            Assert.NotNull(activity);
            collector.Metrics.RateLimitDecision(context, "predict", "admitted");
            collector.Metrics.CacheResult(context, "miss");
            collector.Metrics.IdempotencyOutcome(context, "first");
            collector.Metrics.BackendCall(context, "llm", "replica-b", 0.1, "success", 200);
            collector.Metrics.BackendCall(context, "llm", "replica-b", 0.2, "success", 201);

            Assert.Equal("predict", activity.GetTagItem(Tags.Tier));
            Assert.Equal("admitted", activity.GetTagItem(Tags.RateLimitDecision));
            Assert.Equal("miss", activity.GetTagItem(Tags.CacheStatus));
            Assert.Equal("first", activity.GetTagItem(Tags.IdempotencyOutcome));
            Assert.Equal("llm", activity.GetTagItem(Tags.Breaker));
            Assert.Equal("replica-b", activity.GetTagItem(Tags.Replica));
        }

        Assert.Equal("predict", feature.RateLimitTier);
        Assert.Equal("admitted", feature.RateLimitDecision);
        Assert.Equal("miss", feature.CacheStatus);
        Assert.Equal("first", feature.IdempotencyOutcome);
        Assert.Equal("replica-b", feature.BackendReplica);
        Assert.Equal(0.3, feature.BackendSeconds, 9);
        Assert.Equal(201, feature.BackendStatus);
    }

    [Fact]
    public void ClientActivity_StartsOnlyWhenListened()
    {
        var started = new List<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = static s => s.Name == AiEdgeDiagnostics.ActivitySourceName,
            Sample = static (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = a =>
            {
                lock (started)
                {
                    started.Add(a);
                }
            },
        };
        ActivitySource.AddActivityListener(listener);
        var name = "backend " + Guid.NewGuid().ToString("n");

        using (var activity = AiEdgeMetrics.StartClientActivity(name))
        {
            Assert.NotNull(activity);
            Assert.Equal(ActivityKind.Client, activity.Kind);
        }

        lock (started)
        {
            Assert.Contains(started, a => a.DisplayName == name);
        }
    }
}
