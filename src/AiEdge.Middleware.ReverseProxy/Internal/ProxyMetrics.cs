using System.Diagnostics.Metrics;
using AiEdge.Middleware.Internal;

namespace AiEdge.Middleware.ReverseProxy.Internal;

/// <summary>The proxy's instruments: broken backend streams, on the instrument the Resilience package reports too.</summary>
internal sealed class ProxyMetrics(IMeterFactory meterFactory)
{
    private readonly Counter<long> _brokenStreams = SharedInstruments.BackendBrokenStreams(SharedInstruments.Meter(meterFactory));

    /// <summary>Counts a backend response that broke after its headers (cluster as breaker, destination as replica).</summary>
    public void BrokenStream(string cluster, string destination)
        => _brokenStreams.Add(1, new(AiEdgeDiagnostics.Tags.Breaker, cluster), new(AiEdgeDiagnostics.Tags.Replica, destination));
}
