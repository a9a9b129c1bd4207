namespace AiEdge.Middleware.Streaming;

/// <summary>
/// Marks an endpoint as one that streams its answer. Compression is prevented before the handler runs, request
/// timeouts are lifted, and every successful (2xx) response is sent write by write without buffering; a
/// <c>text/event-stream</c> response also gets heartbeats.
/// </summary>
public interface IStreamingMetadata
{
    /// <summary>Gets the heartbeat interval of the endpoint, or <see langword="null"/> for the configured default.</summary>
    TimeSpan? HeartbeatInterval { get; }
}
