using AiEdge.Middleware.Internal;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AiEdge.Middleware.Security.Internal;

/// <summary>
/// Enforces the endpoint's body limit: a too large <c>Content-Length</c> is answered <c>413</c> before anything
/// reads the body; a body of unknown length is counted as it is read and refused as soon as it crosses the limit.
/// The server's own limit (<see cref="IHttpMaxRequestBodySizeFeature"/>) is set to match a declared length where it is
/// writable (so a 100m endpoint is not cut at Kestrel's 30 MB default), and lifted for counted bodies.
/// </summary>
internal sealed partial class BodyLimitMiddleware
{
    private const string Concern = "bodylimit";
    private const string Title = "Request body too large";

    private readonly RequestDelegate _next;
    private readonly long? _default;
    private readonly SecurityMetrics _metrics;
    private readonly ILogger _logger;

    public BodyLimitMiddleware(RequestDelegate next, IOptions<BodyLimitOptions> options, SecurityMetrics metrics, ILogger<BodyLimitMiddleware> logger)
    {
        _next = next;
        _default = BodySizeParser.Parse(options.Value.Default, nameof(options));
        _metrics = metrics;
        _logger = logger;
    }

    public Task InvokeAsync(HttpContext context)
    {
        var limit = _default;
        if (RequestFeatures.Endpoint(context)?.Metadata.GetMetadata<IRequestSizeLimitMetadata>() is { } metadata)
        {
            limit = metadata.MaxRequestBodySize;
        }

        var serverLimit = RequestFeatures.Get<IHttpMaxRequestBodySizeFeature>(context);
        if (serverLimit is { IsReadOnly: true })
        {
            serverLimit = null;
        }

        if (limit is not { } max)
        {
            serverLimit?.MaxRequestBodySize = null;
            return _next(context);
        }

        var length = context.Request.ContentLength;
        if (length == 0 || (length is null && RequestFeatures.Get<IHttpRequestBodyDetectionFeature>(context) is { CanHaveBody: false }))
        {
            return _next(context);
        }

        if (length is null)
        {
            // Kestrel counts chunk framing against its own limit; the counting guard measures the body itself.
            serverLimit?.MaxRequestBodySize = null;
            return InvokeCountedAsync(context, max);
        }

        // Set even when refusing: Kestrel then closes the connection instead of draining a body it will not use.
        serverLimit?.MaxRequestBodySize = max;
        if (length > max)
        {
            _metrics.Rejected(Concern, "content_length");
            Log.ContentLengthTooLarge(_logger, length.Value, max);
            return WriteTooLargeAsync(context, max);
        }

        return _next(context);
    }

    private async Task InvokeCountedAsync(HttpContext context, long max)
    {
        var request = context.Request;
        var original = request.Body;
        request.Body = new BodyLimitStream(original, max);
        try
        {
            await _next(context);
        }
        catch (BadHttpRequestException exception) when (exception.StatusCode == StatusCodes.Status413PayloadTooLarge && !context.Response.HasStarted)
        {
            _metrics.Rejected(Concern, "body_too_large");
            Log.BodyTooLarge(_logger, max);
            await WriteTooLargeAsync(context, max);
        }
        finally
        {
            request.Body = original;
        }
    }

    private static Task WriteTooLargeAsync(HttpContext context, long max)
    {
        // The rest of the body is not wanted: the server closes the connection after the answer rather than reading
        // (draining) what the client still sends, as NGINX does after its 413.
        context.Response.Headers.Connection = "close";
        return AiEdgeProblems.WriteAsync(
            context,
            StatusCodes.Status413PayloadTooLarge,
            Title,
            "The request body is larger than the " + BodySizeParser.Format(max) + " this endpoint accepts.",
            extensions: [new("limit", max)]);
    }

    private static partial class Log
    {
        [LoggerMessage(1521, LogLevel.Debug, "Request refused before reading: Content-Length {ContentLength} exceeds the body limit {Limit}.", EventName = "ContentLengthTooLarge")]
        public static partial void ContentLengthTooLarge(ILogger logger, long contentLength, long limit);

        [LoggerMessage(1522, LogLevel.Debug, "Request refused while reading: the body crossed the limit {Limit}.", EventName = "BodyTooLarge")]
        public static partial void BodyTooLarge(ILogger logger, long limit);
    }
}
