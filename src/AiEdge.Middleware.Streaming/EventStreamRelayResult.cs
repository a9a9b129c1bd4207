using AiEdge.Middleware.Streaming.Internal;
using Microsoft.AspNetCore.Http;

namespace AiEdge.Middleware.Streaming;

/// <summary>
/// An <see cref="IResult"/> that relays an upstream <c>text/event-stream</c> (an OpenAI-compatible backend's
/// streamed answer) to the client as it arrives; see
/// <see cref="Microsoft.AspNetCore.Http.HttpResponseEventStreamExtensions.RelayEventStreamAsync(HttpResponse, HttpResponseMessage, CancellationToken)"/>.
/// A client that goes away ends it quietly (the upstream request is cancelled). Create it with <c>EventStreamResults.Relay</c>.
/// </summary>
public sealed class EventStreamRelayResult : IResult
{
    private readonly HttpResponseMessage _upstream;

    internal EventStreamRelayResult(HttpResponseMessage upstream) => _upstream = upstream;

    /// <inheritdoc />
    public async Task ExecuteAsync(HttpContext httpContext)
    {
        ArgumentNullException.ThrowIfNull(httpContext);
        try
        {
            await httpContext.Response.RelayEventStreamAsync(_upstream, httpContext.RequestAborted);
        }
        catch (Exception ex) when (httpContext.RequestAborted.IsCancellationRequested && StreamingMiddleware.IsDisconnect(ex))
        {
            // The client went away: the upstream read was cancelled and the backend connection released.
        }
    }
}
