using AiEdge.Middleware.Internal;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.Timeouts;
using Microsoft.AspNetCore.OutputCaching;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;

namespace AiEdge.Middleware.Streaming.Internal;

/// <summary>
/// The streaming stage. Endpoints marked with <see cref="IStreamingMetadata"/> get compression and request timeouts
/// switched off before the handler runs; every response (or only those of marked endpoints, when detection is off)
/// gets a <see cref="StreamingResponseBody"/> that turns event streams into unbuffered, heartbeated streams.
/// </summary>
internal sealed partial class StreamingMiddleware
{
    private const string XAccelBuffering = "X-Accel-Buffering";
    private static readonly StringValues No = "no";
    private static readonly StringValues Identity = "identity";
    private static readonly StringValues NoCacheNoTransform = "no-cache, no-transform";

    private readonly RequestDelegate _next;
    private readonly ILogger<StreamingMiddleware> _logger;
    private readonly bool _detect;
    private readonly string[] _additionalContentTypes;
    private readonly TimeSpan _webSocketIdleTimeout;

    public StreamingMiddleware(RequestDelegate next, IOptions<StreamingOptions> options, StreamingMetrics metrics, TimeProvider time, ILogger<StreamingMiddleware> logger)
    {
        _next = next;
        _logger = logger;
        Metrics = metrics;
        Time = time;
        var value = options.Value;
        _detect = value.DetectEventStreams;
        _additionalContentTypes = [.. value.AdditionalContentTypes];
        HeartbeatInterval = value.HeartbeatInterval;
        _webSocketIdleTimeout = value.WebSockets.IdleTimeout;
    }

    public StreamingMetrics Metrics { get; }

    public TimeProvider Time { get; }

    public TimeSpan HeartbeatInterval { get; }

    public Task InvokeAsync(HttpContext context)
    {
        var metadata = RequestFeatures.Endpoint(context)?.Metadata.GetMetadata<IStreamingMetadata>();
        if (RequestFeatures.Get<IHttpWebSocketFeature>(context) is { IsWebSocketRequest: true } webSockets)
        {
            return _webSocketIdleTimeout > TimeSpan.Zero ? InvokeWebSocketAsync(context, webSockets) : _next(context);
        }

        if (metadata is null && !_detect)
        {
            return _next(context);
        }

        return InvokeStreamingAsync(context, metadata);
    }

    /// <summary>
    /// Whether a request may open a WebSocket: an HTTP/1.1 handshake carries <c>Upgrade</c>, an HTTP/2 or HTTP/3 one is
    /// an extended CONNECT.
    /// </summary>
    internal static bool MayBeWebSocketHandshake(HttpContext context)
        => context.Request.Headers.Upgrade.Count != 0 || HttpMethods.IsConnect(context.Request.Method);

    internal static bool IsDisconnect(Exception exception) => exception is OperationCanceledException or IOException or ObjectDisposedException;

    internal bool IsAdditionalContentType(string? contentType)
    {
        foreach (var type in _additionalContentTypes)
        {
            if (MediaTypes.Is(contentType, type))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Switches compression and the request timeout off; safe to call more than once.</summary>
    internal static void PrepareRequest(HttpContext context)
    {
        // ResponseCompression picks its encoding from Accept-Encoding when the first byte is written: "identity"
        // makes it choose none, whether it wraps this stage or not. Over HTTPS the compression feature says so too.
        context.Request.Headers.AcceptEncoding = Identity;
        if (RequestFeatures.Get<IHttpsCompressionFeature>(context) is { } compression)
        {
            compression.Mode = HttpsCompressionMode.DoNotCompress;
        }

        if (RequestFeatures.Get<IHttpRequestTimeoutFeature>(context) is { } timeout)
        {
            timeout.DisableTimeout();
        }
    }

    /// <summary>Sets the stream's headers and switches everything off that could hold it back.</summary>
    internal void PrepareResponse(HttpContext context)
    {
        PrepareRequest(context);
        if (RequestFeatures.Get<IOutputCacheFeature>(context) is { } outputCache)
        {
            outputCache.Context.AllowCacheStorage = false;
        }

        var response = context.Response;
        if (!response.HasStarted)
        {
            var headers = response.Headers;
            headers.ContentLength = null;
            headers.CacheControl = MergeCacheControl(headers.CacheControl);
            headers[XAccelBuffering] = No;
        }
    }

    internal void StreamStarted(HttpContext context, bool eventStream)
    {
        Metrics.StreamStarted();
        Log.StreamStarted(_logger, context.Request.Path, eventStream);
    }

    internal void StreamEnded(HttpContext context, TimeSpan duration, bool clientDisconnected)
    {
        Log.StreamEnded(_logger, context.Request.Path, duration.TotalSeconds, clientDisconnected);
        Metrics.StreamEnded(duration.TotalSeconds, clientDisconnected);
    }

    internal void HeartbeatFailed(HttpContext context, Exception exception) => Log.HeartbeatFailed(_logger, context.Request.Path, exception);

    private static StringValues MergeCacheControl(StringValues current)
    {
        if (StringValues.IsNullOrEmpty(current))
        {
            return NoCacheNoTransform;
        }

        var value = current.ToString();
        var noTransform = value.Contains("no-transform", StringComparison.OrdinalIgnoreCase);
        var noCache = value.Contains("no-cache", StringComparison.OrdinalIgnoreCase) || value.Contains("no-store", StringComparison.OrdinalIgnoreCase);
        if (noTransform && noCache)
        {
            return current;
        }

        return string.Concat(noCache ? string.Empty : "no-cache, ", value, noTransform ? string.Empty : ", no-transform");
    }

    private async Task InvokeStreamingAsync(HttpContext context, IStreamingMetadata? metadata)
    {
        if (metadata is not null)
        {
            PrepareRequest(context);
        }

        var original = RequestFeatures.Get<IHttpResponseBodyFeature>(context)!;
        var body = new StreamingResponseBody(context, original, this, metadata, Time.GetTimestamp());
        RequestFeatures.Set<IHttpResponseBodyFeature>(context, body);
        var disconnected = false;
        try
        {
            await _next(context);
        }
        catch (Exception ex) when (context.RequestAborted.IsCancellationRequested && IsDisconnect(ex))
        {
            // The client went away: the handler saw RequestAborted and stopped. Not a failure.
            disconnected = true;
            Log.ClientDisconnected(_logger, context.Request.Path);
            if (!body.IsStreaming)
            {
                Metrics.ClientDisconnected("streaming");
            }
        }
        finally
        {
            RequestFeatures.Set(context, original);
            await body.FinishAsync(disconnected);
        }
    }

    private async Task InvokeWebSocketAsync(HttpContext context, IHttpWebSocketFeature webSockets)
    {
        var feature = new IdleTimeoutWebSocketFeature(webSockets, _webSocketIdleTimeout, Time, _logger);
        RequestFeatures.Set<IHttpWebSocketFeature>(context, feature);
        try
        {
            await _next(context);
        }
        catch (Exception ex) when (context.RequestAborted.IsCancellationRequested && IsDisconnect(ex))
        {
            Log.ClientDisconnected(_logger, context.Request.Path);
            Metrics.ClientDisconnected("websocket");
        }
        finally
        {
            RequestFeatures.Set(context, webSockets);
            feature.Dispose();
        }
    }

    internal static partial class Log
    {
        [LoggerMessage(1301, LogLevel.Debug, "Streaming {Path} without buffering or compression (event stream: {EventStream}).", EventName = "StreamStarted")]
        public static partial void StreamStarted(ILogger logger, PathString path, bool eventStream);

        [LoggerMessage(1302, LogLevel.Debug, "Stream {Path} ended after {Seconds:0.###} s (client disconnected: {ClientDisconnected}).", EventName = "StreamEnded")]
        public static partial void StreamEnded(ILogger logger, PathString path, double seconds, bool clientDisconnected);

        [LoggerMessage(1303, LogLevel.Debug, "The client of {Path} disconnected; the handler was cancelled.", EventName = "ClientDisconnected")]
        public static partial void ClientDisconnected(ILogger logger, PathString path);

        [LoggerMessage(1304, LogLevel.Debug, "Heartbeats of {Path} stopped: the stream can no longer be written.", EventName = "HeartbeatFailed")]
        public static partial void HeartbeatFailed(ILogger logger, PathString path, Exception exception);

        [LoggerMessage(1305, LogLevel.Debug, "WebSocket idle for {Seconds:0.###} s: closing it.", EventName = "WebSocketIdle")]
        public static partial void WebSocketIdle(ILogger logger, double seconds);
    }
}
