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
            catch (Exception exception) when (StreamRelay.IsUpstreamFailure(exception, token))
            {
                await EndBrokenAsync(response, name, new StreamRelay.Outcome(0, true, exception), eventStream: true).ConfigureAwait(false);
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

        var outcome = await StreamRelay.CopyAsync(source, body, token).ConfigureAwait(false);
        if (outcome.Broken is not null)
        {
            await EndBrokenAsync(response, name, outcome, eventStream).ConfigureAwait(false);
        }
    }

    private static Task EndBrokenAsync(HttpResponse response, string name, StreamRelay.Outcome outcome, bool eventStream)
    {
        var context = response.HttpContext;
        var services = context.RequestServices;
        if (services?.GetService<ILoggerFactory>() is { } loggers)
        {
            Log.UpstreamStreamBroken(loggers.CreateLogger(typeof(EventStreamRelay).FullName!), name, context.Request.Path.Value ?? string.Empty, outcome.Relayed, outcome.Broken!.GetType().Name, outcome.Broken.Message);
        }

        StreamingMetrics.From(services)?.BackendStreamBroken(name, null);
        return StreamRelay.EndBrokenAsync(context, eventStream, outcome.AtEventBoundary, problemType: null);
    }

    private static partial class Log
    {
        [LoggerMessage(1306, LogLevel.Warning, "Upstream {Upstream} broke the event stream relayed to {Path} after {BytesRelayed} bytes were relayed: {Error}: {Message}", EventName = "UpstreamStreamBroken")]
        public static partial void UpstreamStreamBroken(ILogger logger, string upstream, string path, long bytesRelayed, string error, string message);
    }
}
