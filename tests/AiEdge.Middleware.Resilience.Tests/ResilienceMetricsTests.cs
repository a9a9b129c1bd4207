using System.Diagnostics;
using AiEdge.Middleware.Resilience.Internal;
using AiEdge.Middleware.Testing;
using Microsoft.AspNetCore.Http;
using Tags = AiEdge.Middleware.AiEdgeDiagnostics.Tags;

namespace AiEdge.Middleware.Resilience.Tests;

/// <summary>Breaker and backend reports produce the right measurement, tags, activity tags and access-log values.</summary>
public sealed class ResilienceMetricsTests
{
    [Fact]
    public void Breaker_TransitionsAndBackendCalls()
    {
        using var collector = new MetricsCollector();
        var metrics = new ResilienceMetrics(collector.MeterFactory);
        metrics.BreakerTransition("llm", "open");
        metrics.BackendCall(null, "llm", "replica-a", 0.25, "error", 502);

        MetricsCollector.AssertTags(collector.Single("aiedge.breaker.transitions"), (Tags.Breaker, "llm"), (Tags.BreakerState, "open"));
        var backend = collector.Single("aiedge.backend.duration");
        Assert.Equal(0.25, backend.Value);
        MetricsCollector.AssertTags(backend, (Tags.Breaker, "llm"), (Tags.Replica, "replica-a"), (Tags.Outcome, "error"));
    }

    [Fact]
    public void BreakerState_ObservedFromRegisteredSources()
    {
        using var collector = new MetricsCollector();
        var metrics = new ResilienceMetrics(collector.MeterFactory);
        collector.Observe();
        Assert.DoesNotContain(collector.Measurements, m => m.Instrument == "aiedge.breaker.state");

        var state = "closed";
        metrics.AddBreakerStateSource(() => [new("llm", state), new("embeddings", "closed")]);
        state = "open";
        collector.Observe();

        var observed = collector.Measurements.Where(m => m.Instrument == "aiedge.breaker.state").ToList();
        Assert.Equal(2, observed.Count);
        Assert.All(observed, m => Assert.Equal(1, m.Value));
        Assert.Contains(observed, m => Equals(m.Tags[Tags.Breaker], "llm") && Equals(m.Tags[Tags.BreakerState], "open"));
        Assert.Contains(observed, m => Equals(m.Tags[Tags.Breaker], "embeddings") && Equals(m.Tags[Tags.BreakerState], "closed"));
    }

    [Fact]
    public void BackendCalls_TagTheRequestActivity_AndAddUpForTheAccessLog()
    {
        using var source = new ActivitySource("AiEdge.Tests.Server." + Guid.NewGuid().ToString("n"));
        using var listener = new ActivityListener
        {
            ShouldListenTo = s => s == source,
            Sample = static (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
        };
        ActivitySource.AddActivityListener(listener);
        using var collector = new MetricsCollector();
        var metrics = new ResilienceMetrics(collector.MeterFactory);
        var context = new DefaultHttpContext();
        var decisions = new AiEdgeDecisionsFeature();
        context.Features.Set(decisions);

        using (var activity = source.StartActivity("POST /v1/predict", ActivityKind.Server))
        {
            Assert.NotNull(activity);
            metrics.BackendCall(context, "llm", "replica-b", 0.1, "success", 200);
            metrics.BackendCall(context, "llm", "replica-b", 0.2, "success", 201);
            Assert.Equal("llm", activity.GetTagItem(Tags.Breaker));
            Assert.Equal("replica-b", activity.GetTagItem(Tags.Replica));
        }

        Assert.Equal("llm", decisions.Get(Tags.Breaker));
        Assert.Equal("replica-b", decisions.Get(Tags.Replica));
        Assert.True(decisions.TryGetTotal(AiEdgeDecisionsFeature.BackendSeconds, out var seconds));
        Assert.Equal(0.3, seconds, 9);
    }
}
