namespace AiEdge.Samples.ModelApi;

/// <summary>The sample's own settings (section <c>Sample</c>).</summary>
public sealed class SampleOptions
{
    /// <summary>Milliseconds between two generated tokens.</summary>
    public int TokenDelayMs { get; set; } = 20;

    /// <summary>Whether <c>GET /metrics</c> serves the metrics in the Prometheus text format (read at startup).</summary>
    public bool PrometheusEndpoint { get; set; }
}
