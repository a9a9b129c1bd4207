using AiEdge.Middleware.Streaming.Internal;

namespace Microsoft.AspNetCore.Http;

/// <summary>Relays an upstream event stream to the client.</summary>
public static class HttpResponseEventStreamExtensions
{
    /// <summary>
    /// Relays a backend's response to the client as it arrives: its status code and content type, then every chunk
    /// of its body written and flushed as soon as it is read, never collected first. Send the upstream request with
    /// <see cref="HttpCompletionOption.ResponseHeadersRead"/> so the body is read while the backend produces it.
    /// When the client goes away the upstream read is cancelled (the backend sees its connection closed) and the
    /// <see cref="OperationCanceledException"/> propagates. When the backend breaks its body (the connection dies
    /// mid-answer) nothing is thrown: the break is logged once at Warning with the bytes relayed, counted in
    /// <c>aiedge.backend.broken_streams</c>, and an event stream gets a final <c>event: error</c> (when the break fell
    /// between two events, see <see cref="AiEdge.Middleware.AiEdgeProblems.WriteBackendStreamBrokenEventAsync"/>) and
    /// a clean end; another body is aborted. <paramref name="upstream"/> is disposed at the end.
    /// </summary>
    /// <param name="response">The client's response; it must not have started.</param>
    /// <param name="upstream">The backend's response.</param>
    /// <param name="cancellationToken">Ends the relay; <see cref="HttpContext.RequestAborted"/> always does.</param>
    /// <returns>A task that completes when the upstream stream has ended or broken.</returns>
    public static Task RelayEventStreamAsync(this HttpResponse response, HttpResponseMessage upstream, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(response);
        ArgumentNullException.ThrowIfNull(upstream);
        return EventStreamRelay.RelayAsync(response, upstream, cancellationToken);
    }

    /// <summary>
    /// Relays an upstream <c>text/event-stream</c> body to the client as it arrives, each chunk written and flushed
    /// as soon as it is read. The response gets status 200 unless set before, and the event-stream headers. An
    /// upstream body that breaks ends the stream as <see cref="RelayEventStreamAsync(HttpResponse, HttpResponseMessage, CancellationToken)"/> does.
    /// </summary>
    /// <param name="response">The client's response; it must not have started.</param>
    /// <param name="upstream">The upstream body; not disposed.</param>
    /// <param name="cancellationToken">Ends the relay; <see cref="HttpContext.RequestAborted"/> always does.</param>
    /// <returns>A task that completes when the upstream stream has ended or broken.</returns>
    public static Task RelayEventStreamAsync(this HttpResponse response, Stream upstream, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(response);
        ArgumentNullException.ThrowIfNull(upstream);
        return EventStreamRelay.RelayAsync(response, upstream, cancellationToken);
    }
}
