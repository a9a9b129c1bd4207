using System.Diagnostics.Metrics;

namespace AiEdge.Middleware.Internal;

/// <summary>
/// What the Errors stage reports on the suite's meter: a request the client got wrong (<c>aiedge.rejections</c>,
/// concern <c>request</c>) or abandoned (<c>aiedge.client.disconnects</c>). Each concern package owns the
/// instruments of its own decisions the same way.
/// </summary>
internal sealed class RequestErrorMetrics
{
    private readonly Counter<long> _disconnects;
    private readonly Counter<long> _rejections;

    public RequestErrorMetrics(IMeterFactory meterFactory)
    {
        var meter = SharedInstruments.Meter(meterFactory);
        _disconnects = SharedInstruments.ClientDisconnects(meter);
        _rejections = SharedInstruments.Rejections(meter);
    }

    /// <summary>A client went away while <paramref name="concern"/> was serving it.</summary>
    public void ClientDisconnected(string concern)
        => _disconnects.Add(1, new KeyValuePair<string, object?>(AiEdgeDiagnostics.Tags.Concern, concern));

    /// <summary>A concern refused a request, for a bounded reason.</summary>
    public void Rejected(string concern, string reason)
        => _rejections.Add(1, new(AiEdgeDiagnostics.Tags.Concern, concern), new(AiEdgeDiagnostics.Tags.Reason, reason));
}
