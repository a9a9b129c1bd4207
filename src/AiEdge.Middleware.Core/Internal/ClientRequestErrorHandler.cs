using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace AiEdge.Middleware.Internal;

/// <summary>
/// The Errors stage's answer to a request the client got wrong or abandoned (see <see cref="AiEdgeClientErrors"/>):
/// a 400/408/413 problem details body instead of a 500, logged at Debug and counted as a rejection, never as an
/// application error. A client that went away gets no answer. Runs only when an exception reached the stage, so a
/// request that succeeds pays nothing for it.
/// </summary>
internal sealed partial class ClientRequestErrorHandler(RequestErrorMetrics metrics, ILogger<ClientRequestErrorHandler> logger) : IExceptionHandler
{
    private const string Concern = "request";

    public ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (!AiEdgeClientErrors.TryGetStatusCode(exception, httpContext.RequestAborted, out var status))
        {
            return ValueTask.FromResult(false);
        }

        metrics.Rejected(Concern, AiEdgeClientErrors.GetReason(status));
        if (status == AiEdgeClientErrors.ClientClosedRequest)
        {
            metrics.ClientDisconnected(Concern);
            Log.ClientGone(logger, exception.GetType().Name, exception.Message);
            return ValueTask.FromResult(true);
        }

        Log.BadRequest(logger, status, exception.GetType().Name, exception.Message);
        return WriteAsync(httpContext, status);
    }

    private static async ValueTask<bool> WriteAsync(HttpContext context, int status)
    {
        var (title, detail) = status switch
        {
            StatusCodes.Status413PayloadTooLarge => ("Request body too large", "The request body is larger than this server accepts."),
            StatusCodes.Status408RequestTimeout => ("Request body too slow", "The request body did not arrive in time."),
            _ => ("Malformed request", "The request could not be read: its body framing (Content-Length or chunked encoding) is invalid or incomplete."),
        };

        await AiEdgeProblems.WriteAsync(context, status, title, detail);
        return true;
    }

    private static partial class Log
    {
        [LoggerMessage(1960, LogLevel.Debug, "Request answered {StatusCode}: the client sent a request that could not be read ({ExceptionType}: {Reason}).", EventName = "ClientRequestError")]
        public static partial void BadRequest(ILogger logger, int statusCode, string exceptionType, string reason);

        [LoggerMessage(1961, LogLevel.Debug, "The client went away while its request was read or served ({ExceptionType}: {Reason}).", EventName = "ClientRequestAborted")]
        public static partial void ClientGone(ILogger logger, string exceptionType, string reason);
    }
}
