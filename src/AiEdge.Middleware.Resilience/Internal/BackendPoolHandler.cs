using System.Net;
using Microsoft.Extensions.Logging;
using Polly.Timeout;

namespace AiEdge.Middleware.Resilience.Internal;

/// <summary>
/// The outermost <see cref="DelegatingHandler"/> of an <see cref="HttpClient"/> calling a backend pool: it turns what
/// the handlers below it report (the client's resilience handler with its total timeout and safe retries, then
/// <see cref="ReplicaHandler"/> with each replica's breaker and attempt timeout) into answers. Failures come back as
/// <see cref="BackendProblemResponse"/>s (502 for an unreachable or failing backend, 504 for a timeout, the 503 of a
/// pool whose replicas are all refused passes through), never as exceptions, except a cancellation by the caller.
/// </summary>
internal sealed partial class BackendPoolHandler(BackendPool pool, ResilienceMetrics metrics, ILogger<BackendPoolHandler> logger) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        HttpResponseMessage response;
        try
        {
            response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            metrics.ClientDisconnected("breaker");
            throw;
        }
        catch (TimeoutRejectedException)
        {
            Log.BackendTimedOut(logger, pool.Name);
            return new BackendProblemResponse(HttpStatusCode.GatewayTimeout, "Model backend timed out", "Backend '" + pool.Name + "' did not answer in time.");
        }
        catch (Exception exception)
        {
            // A refused connection, a reset, a request body that could not be sent again: the backend failed us.
            Log.BackendFailed(logger, pool.Name, exception.GetType().Name);
            return new BackendProblemResponse(HttpStatusCode.BadGateway, "Model backend failed", "Backend '" + pool.Name + "' could not be reached or broke the connection.");
        }

        if (response is not BackendProblemResponse && (int)response.StatusCode >= 500)
        {
            var status = (int)response.StatusCode;
            response.Dispose();
            Log.BackendAnsweredError(logger, pool.Name, status);
            return new BackendProblemResponse(HttpStatusCode.BadGateway, "Model backend failed", "Backend '" + pool.Name + "' answered with an error.");
        }

        return response;
    }

    private static partial class Log
    {
        [LoggerMessage(1610, LogLevel.Warning, "Backend {Backend} timed out.", EventName = "BackendTimedOut")]
        public static partial void BackendTimedOut(ILogger logger, string backend);

        [LoggerMessage(1611, LogLevel.Warning, "Backend {Backend} failed: {Error}.", EventName = "BackendFailed")]
        public static partial void BackendFailed(ILogger logger, string backend, string error);

        [LoggerMessage(1612, LogLevel.Warning, "Backend {Backend} answered {Status}; answering 502.", EventName = "BackendAnsweredError")]
        public static partial void BackendAnsweredError(ILogger logger, string backend, int status);
    }
}
