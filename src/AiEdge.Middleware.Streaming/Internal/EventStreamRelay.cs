using System.Buffers;
using AiEdge.Middleware.Internal;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AiEdge.Middleware.Streaming.Internal;

/// <summary>
/// The relay behind <see cref="HttpResponseEventStreamExtensions"/>: every chunk of the upstream body written and
/// flushed as soon as it is read. An upstream that breaks its body (an <see cref="IOException"/> or an
/// <see cref="HttpRequestException"/> while the client is still there) is an expected event, ended the way the
/// Resilience relay ends it: one Warning, one count of <c>aiedge.backend.broken_streams</c>, then for an event
/// stream a final <c>event: error</c> when the break fell between two events and a clean end; for any other body
/// a 502 problem when nothing was sent yet, else the connection is aborted. The client going away is not a break.
/// </summary>
internal static partial class EventStreamRelay
{
    private const int BufferSize = 16 * 1024;
    private const string Unknown = "unknown";

    public static async Task RelayAsync(HttpResponse response, HttpResponseMessage upstream, CancellationToken cancellationToken)
    {
        using (upstream)
        {
            using var linked = Link(response, cancellationToken);
            var token = linked?.Token ?? response.HttpContext.RequestAborted;
            var name = upstream.RequestMessage?.RequestUri?.Authority ?? Unknown;
            response.StatusCode = (int)upstream.StatusCode;
            var contentType = upstream.Content.Headers.ContentType?.ToString();
            Stream source;
            try
            {
                source = await upstream.Content.ReadAsStreamAsync(token).ConfigureAwait(false);
            }
            catch (Exception exception) when (IsUpstreamFailure(exception, token))
            {
                await EndBrokenAsync(response, name, exception, 0, eventStream: true, atEventBoundary: true).ConfigureAwait(false);
                return;
            }

            await using (source.ConfigureAwait(false))
            {
                var eventStream = string.IsNullOrEmpty(contentType) || MediaTypes.Is(contentType, MediaTypes.EventStream);
                await RelayCoreAsync(response, source, name, string.IsNullOrEmpty(contentType) ? MediaTypes.EventStream : contentType, eventStream, token).ConfigureAwait(false);
            }
        }
    }

    public static async Task RelayAsync(HttpResponse response, Stream source, CancellationToken cancellationToken)
    {
        using var linked = Link(response, cancellationToken);
        await RelayCoreAsync(response, source, Unknown, MediaTypes.EventStream, eventStream: true, linked?.Token ?? response.HttpContext.RequestAborted).ConfigureAwait(false);
    }

    private static CancellationTokenSource? Link(HttpResponse response, CancellationToken cancellationToken)
        => cancellationToken.CanBeCanceled && cancellationToken != response.HttpContext.RequestAborted
            ? CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, response.HttpContext.RequestAborted)
            : null;

    private static async Task RelayCoreAsync(HttpResponse response, Stream source, string name, string contentType, bool eventStream, CancellationToken token)
    {
        StreamingMiddleware.PrepareRequest(response.HttpContext);
        response.ContentType = contentType;
        response.Headers.ContentLength = null;
        response.Headers.CacheControl = "no-cache, no-transform";
        response.Headers["X-Accel-Buffering"] = "no";
        await response.StartAsync(token).ConfigureAwait(false);
        var body = response.Body;
        await body.FlushAsync(token).ConfigureAwait(false);

        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        long relayed = 0;
        var boundary = default(EventBoundary);
        Exception? broken = null;
        try
        {
            while (true)
            {
                int read;
                try
                {
                    read = await source.ReadAsync(buffer.AsMemory(0, BufferSize), token).ConfigureAwait(false);
                }
                catch (Exception exception) when (IsUpstreamFailure(exception, token))
                {
                    broken = exception;
                    break;
                }

                if (read == 0)
                {
                    break;
                }

                await body.WriteAsync(buffer.AsMemory(0, read), token).ConfigureAwait(false);
                await body.FlushAsync(token).ConfigureAwait(false);
                relayed += read;
                boundary.Observe(buffer.AsSpan(0, read));
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        if (broken is not null)
        {
            await EndBrokenAsync(response, name, broken, relayed, eventStream, boundary.AtBoundary).ConfigureAwait(false);
        }
    }

    // Only reads of the upstream body are judged: a write to a client that went away is the client's, not a break.
    private static bool IsUpstreamFailure(Exception exception, CancellationToken token)
        => !token.IsCancellationRequested && exception is IOException or HttpRequestException;

    private static async Task EndBrokenAsync(HttpResponse response, string name, Exception broken, long relayed, bool eventStream, bool atEventBoundary)
    {
        var context = response.HttpContext;
        var services = context.RequestServices;
        if (services?.GetService<ILoggerFactory>() is { } loggers)
        {
            Log.UpstreamStreamBroken(loggers.CreateLogger(typeof(EventStreamRelay).FullName!), name, context.Request.Path.Value ?? string.Empty, relayed, broken.GetType().Name, broken.Message);
        }

        services?.GetService<AiEdgeMetrics>()?.BackendStreamBroken(name, null);

        if (!response.HasStarted)
        {
            // Nothing reached the client yet: the whole answer can still be an honest 502.
            response.Clear();
            await AiEdgeProblems.WriteAsync(context, StatusCodes.Status502BadGateway, "Model backend failed",
                "The model backend broke the connection while sending its answer.").ConfigureAwait(false);
            return;
        }

        if (!eventStream)
        {
            // A body cut short must not look complete: the client sees the connection reset.
            context.Abort();
            return;
        }

        if (atEventBoundary)
        {
            // Between two events: one more event tells SSE clients the answer is incomplete. A break inside an event
            // adds nothing: that partial event is never terminated, so an SSE parser discards it.
            await AiEdgeProblems.WriteBackendStreamBrokenEventAsync(response, context.RequestAborted).ConfigureAwait(false);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1306, LogLevel.Warning, "Upstream {Upstream} broke the event stream relayed to {Path} after {BytesRelayed} bytes were relayed: {Error}: {Message}", EventName = "UpstreamStreamBroken")]
        public static partial void UpstreamStreamBroken(ILogger logger, string upstream, string path, long bytesRelayed, string error, string message);
    }
}
