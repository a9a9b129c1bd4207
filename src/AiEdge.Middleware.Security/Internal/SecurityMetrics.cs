using System.Diagnostics.Metrics;
using AiEdge.Middleware.Internal;

namespace AiEdge.Middleware.Security.Internal;

/// <summary>What the body limit and CORS stages report on the suite's meter: the requests they refuse (<c>aiedge.rejections</c>).</summary>
internal sealed class SecurityMetrics
{
    private readonly Counter<long> _rejections;

    public SecurityMetrics(IMeterFactory meterFactory)
        => _rejections = SharedInstruments.Rejections(SharedInstruments.Meter(meterFactory));

    /// <summary>A concern refused a request, for a bounded reason.</summary>
    public void Rejected(string concern, string reason)
        => _rejections.Add(1, new(AiEdgeDiagnostics.Tags.Concern, concern), new(AiEdgeDiagnostics.Tags.Reason, reason));
}
