using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http;

namespace AiEdge.Middleware;

/// <summary>
/// Tells a failure the client caused (a malformed, too large, too slow or truncated request, or a client that went
/// away) from a failure of the application, wherever in the pipeline the body was read: by a concern (cache key,
/// idempotency fingerprint, token estimate, body limit), by a model binder or by the endpoint itself. The Errors
/// stage of <c>UseAiEdge()</c> answers such a request with its 4xx instead of a 500; a concern or an application
/// uses the same test to keep a client's mistake out of its error counts, breakers and error logs.
/// </summary>
/// <remarks>
/// The exception and its inner exceptions are searched, so a reader that wraps the server's exception is seen
/// through. A client error is:
/// <list type="bullet">
/// <item><see cref="BadHttpRequestException"/> (Kestrel's own type derives from it): its status code (400, 408, 413, ...).</item>
/// <item>an <see cref="IOException"/> thrown by the server itself: Kestrel reports some framing errors this way
/// (an overflowing chunk size is <c>IOException("Bad chunk size data")</c> around an <see cref="OverflowException"/>), 400.</item>
/// <item><see cref="ConnectionResetException"/>, <see cref="ConnectionAbortedException"/>, or an
/// <see cref="OperationCanceledException"/> / <see cref="IOException"/> after <see cref="HttpContext.RequestAborted"/>
/// fired: the client went away, <see cref="ClientClosedRequest"/> (nobody is left to answer).</item>
/// </list>
/// Every other exception is the application's failure. The test allocates nothing.
/// </remarks>
public static class AiEdgeClientErrors
{
    /// <summary>The status recorded for a request whose client went away (NGINX's 499); nothing is sent.</summary>
    public const int ClientClosedRequest = 499;

    private static readonly System.Reflection.Assembly Server = typeof(Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions).Assembly;

    /// <summary>Gets whether the client caused <paramref name="exception"/>, and the status to answer it with.</summary>
    /// <param name="exception">The exception that reached the caller.</param>
    /// <param name="requestAborted">
    /// The request's <see cref="HttpContext.RequestAborted"/>; a cancellation or I/O failure after it fired is the
    /// client going away. Pass <see cref="CancellationToken.None"/> when the request is not at hand.
    /// </param>
    /// <param name="statusCode">
    /// The status to answer with (400, 408, 413, 431, ...), or <see cref="ClientClosedRequest"/> when the client went
    /// away; 0 when the method returns <see langword="false"/>.
    /// </param>
    /// <returns><see langword="true"/> when the client caused the failure; <see langword="false"/> when the application did.</returns>
    public static bool TryGetStatusCode(Exception exception, CancellationToken requestAborted, out int statusCode)
    {
        ArgumentNullException.ThrowIfNull(exception);
        statusCode = StatusFor(exception, requestAborted);
        return statusCode != 0;
    }

    /// <summary>
    /// Gets the bounded reason for a client error of <paramref name="statusCode"/>, as the Errors stage reports it in
    /// the <c>aiedge.reason</c> tag of <c>aiedge.rejections</c> (concern <c>request</c>): <c>body_too_large</c> (413),
    /// <c>body_timeout</c> (408), <c>headers_too_large</c> (431), <c>client_closed</c> (<see cref="ClientClosedRequest"/>),
    /// else <c>bad_request</c>.
    /// </summary>
    /// <param name="statusCode">A status code returned by <see cref="TryGetStatusCode"/>.</param>
    /// <returns>The reason code.</returns>
    public static string GetReason(int statusCode) => statusCode switch
    {
        StatusCodes.Status413PayloadTooLarge => "body_too_large",
        StatusCodes.Status408RequestTimeout => "body_timeout",
        StatusCodes.Status431RequestHeaderFieldsTooLarge => "headers_too_large",
        ClientClosedRequest => "client_closed",
        _ => "bad_request",
    };

    private static int StatusFor(Exception exception, CancellationToken requestAborted)
    {
        for (var current = exception; current is not null; current = current.InnerException)
        {
            switch (current)
            {
                case BadHttpRequestException bad:
                    return bad.StatusCode;
                case ConnectionResetException or ConnectionAbortedException:
                    return ClientClosedRequest;
                case OperationCanceledException or IOException when requestAborted.IsCancellationRequested:
                    return ClientClosedRequest;
                case IOException when IsThrownByServer(current):
                    return StatusCodes.Status400BadRequest;
            }
        }

        return 0;
    }

    private static bool IsThrownByServer(Exception exception)
        => exception.TargetSite?.DeclaringType?.Assembly == Server;
}
