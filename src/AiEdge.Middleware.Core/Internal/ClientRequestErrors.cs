using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http;

namespace AiEdge.Middleware.Internal;

/// <summary>
/// Tells a failure the client caused (a malformed, too large, too slow or truncated request body, or a client that
/// went away) from a failure of the application, wherever in the pipeline the body was read: by a concern (cache
/// key, idempotency fingerprint, token estimate, body limit), by a model binder or by the endpoint itself.
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
/// </remarks>
internal static class ClientRequestErrors
{
    /// <summary>The status recorded for a request whose client went away (nginx's 499); nothing is sent.</summary>
    public const int ClientClosedRequest = 499;

    private static readonly System.Reflection.Assembly Server = typeof(Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions).Assembly;

    /// <summary>
    /// The status to answer <paramref name="exception"/> with when the client caused it
    /// (<see cref="ClientClosedRequest"/> when the client went away), or 0 when it is the application's failure.
    /// </summary>
    public static int StatusFor(Exception exception, CancellationToken requestAborted)
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

    /// <summary>The bounded reason recorded in metrics for a client error of <paramref name="status"/>.</summary>
    public static string ReasonFor(int status) => status switch
    {
        StatusCodes.Status413PayloadTooLarge => "body_too_large",
        StatusCodes.Status408RequestTimeout => "body_timeout",
        StatusCodes.Status431RequestHeaderFieldsTooLarge => "headers_too_large",
        ClientClosedRequest => "client_closed",
        _ => "bad_request",
    };

    private static bool IsThrownByServer(Exception exception)
        => exception.TargetSite?.DeclaringType?.Assembly == Server;
}
