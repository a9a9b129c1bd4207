using AiEdge.Middleware.Streaming.Internal;
using AiEdge.Middleware.Testing;
using Tags = AiEdge.Middleware.AiEdgeDiagnostics.Tags;

namespace AiEdge.Middleware.Streaming.Tests;

public sealed class StreamingMetricsTests
{
    [Fact]
    public void Streams_OpenDurationFirstEventHeartbeatsDisconnects()
    {
        using var collector = new MetricsCollector();
        var metrics = new StreamingMetrics(collector.MeterFactory);
        metrics.StreamStarted();
        metrics.TimeToFirstEvent(0.08);
        metrics.Heartbeat();
        metrics.StreamEnded(12.5, clientDisconnected: true);

        var active = collector.Measurements.Where(m => m.Instrument == "aiedge.stream.active").Select(m => m.Value).ToList();
        Assert.Equal([1d, -1d], active);
        Assert.Equal(0.08, collector.Single("aiedge.stream.time_to_first_event").Value);
        Assert.Equal(1, collector.Single("aiedge.stream.heartbeats").Value);
        Assert.Equal(12.5, collector.Single("aiedge.stream.duration").Value);
        MetricsCollector.AssertTags(collector.Single("aiedge.client.disconnects"), (Tags.Concern, "stream"));
    }

    [Fact]
    public void BackendStreamBroken_CountedByBackend()
    {
        using var collector = new MetricsCollector();
        new StreamingMetrics(collector.MeterFactory).BackendStreamBroken("upstream", null);
        var broken = collector.Single("aiedge.backend.broken_streams");
        Assert.Equal("{stream}", broken.Unit);
        MetricsCollector.AssertTags(broken, (Tags.Breaker, "upstream"), (Tags.Replica, null));
    }
}
