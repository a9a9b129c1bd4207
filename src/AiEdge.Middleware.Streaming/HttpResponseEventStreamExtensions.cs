using System.Buffers;
using AiEdge.Middleware.Streaming.Internal;

namespace Microsoft.AspNetCore.Http;

/// <summary>Relays an upstream event stream to the client.</summary>
public static class HttpResponseEventStreamExtensions
{
    private const int BufferSize = 16 * 1024;

    /// <summary>
    /// Relays a backend's response to the client as it arrives: its status code and content type, then every chunk
    /// of its body written and flushed as soon as it is read, never collected first. Send the upstream request with
    /// <see cref="HttpCompletionOption.ResponseHeadersRead"/> so the body is read while the backend produces it.
    /// When the client goes away the upstream read is cancelled (the backend sees its connection closed) and the
    /// <see cref="OperationCanceledException"/> propagates. <paramref name="upstream"/> is disposed at the end.
    /// </summary>
    /// <param name="response">The client's response; it must not have started.</param>
    /// <param name="upstream">The backend's response.</param>
    /// <param name="cancellationToken">Ends the relay; <see cref="HttpContext.RequestAborted"/> always does.</param>
    /// <returns>A task that completes when the upstream stream has ended.</returns>
    public static async Task RelayEventStreamAsync(this HttpResponse response, HttpResponseMessage upstream, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(response);
        ArgumentNullException.ThrowIfNull(upstream);
        using (upstream)
        {
            response.StatusCode = (int)upstream.StatusCode;
            var contentType = upstream.Content.Headers.ContentType?.ToString();
            var source = await upstream.Content.ReadAsStreamAsync(cancellationToken);
            await using (source)
            {
                await RelayCoreAsync(response, source, string.IsNullOrEmpty(contentType) ? MediaTypes.EventStream : contentType, cancellationToken);
            }
        }
    }

    /// <summary>
    /// Relays an upstream <c>text/event-stream</c> body to the client as it arrives, each chunk written and flushed
    /// as soon as it is read. The response gets status 200 unless set before, and the event-stream headers.
    /// </summary>
    /// <param name="response">The client's response; it must not have started.</param>
    /// <param name="upstream">The upstream body; not disposed.</param>
    /// <param name="cancellationToken">Ends the relay; <see cref="HttpContext.RequestAborted"/> always does.</param>
    /// <returns>A task that completes when the upstream stream has ended.</returns>
    public static Task RelayEventStreamAsync(this HttpResponse response, Stream upstream, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(response);
        ArgumentNullException.ThrowIfNull(upstream);
        return RelayCoreAsync(response, upstream, MediaTypes.EventStream, cancellationToken);
    }

    private static async Task RelayCoreAsync(HttpResponse response, Stream source, string contentType, CancellationToken cancellationToken)
    {
        using var linked = cancellationToken.CanBeCanceled && cancellationToken != response.HttpContext.RequestAborted
            ? CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, response.HttpContext.RequestAborted)
            : null;
        var token = linked?.Token ?? response.HttpContext.RequestAborted;

        StreamingMiddleware.PrepareRequest(response.HttpContext);
        response.ContentType = contentType;
        response.Headers.ContentLength = null;
        response.Headers.CacheControl = "no-cache, no-transform";
        response.Headers["X-Accel-Buffering"] = "no";
        await response.StartAsync(token);
        var body = response.Body;
        await body.FlushAsync(token);

        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            int read;
            while ((read = await source.ReadAsync(buffer.AsMemory(), token)) > 0)
            {
                await body.WriteAsync(buffer.AsMemory(0, read), token);
                await body.FlushAsync(token);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
