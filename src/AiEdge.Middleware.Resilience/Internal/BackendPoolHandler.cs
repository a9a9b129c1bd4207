using System.Net;
using AiEdge.Middleware.Internal;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace AiEdge.Middleware.Resilience.Internal;

/// <summary>
/// The <see cref="DelegatingHandler"/> of an <see cref="HttpClient"/> calling a backend pool. Each call runs the
/// pool's pipeline (total timeout, retries for idempotent calls); each attempt goes to a replica chosen among the
/// available ones and through that replica's breaker and attempt timeout. A replica refused by its breaker is
/// skipped at once (the backend never saw the call). Failures come back as <see cref="BackendProblemResponse"/>s
/// (502, 503, 504), never as exceptions, except a cancellation by the caller.
/// </summary>
internal sealed partial class BackendPoolHandler(BackendPool pool, ResilienceMetrics metrics, TimeProvider time, ILogger<BackendPoolHandler> logger) : DelegatingHandler
{
    internal static readonly ResiliencePropertyKey<bool> IdempotentKey = new("AiEdge.Resilience.Idempotent");

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var uri = request.RequestUri;
        var relative = uri is null ? string.Empty : uri.IsAbsoluteUri ? uri.PathAndQuery : uri.OriginalString;
        var call = new PoolCall(this, request, relative.StartsWith('/') ? relative[1..] : relative);
        var context = ResilienceContextPool.Shared.Get(cancellationToken);
        context.Properties.Set(IdempotentKey, IsIdempotent(request));
        Outcome<HttpResponseMessage> outcome;
        try
        {
            outcome = await pool.Pipeline.ExecuteOutcomeAsync(static (ctx, state) => state.Handler.AttemptAsync(ctx, state), context, call).ConfigureAwait(false);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }

        if (outcome.Exception is { } exception)
        {
            switch (exception)
            {
                case OperationCanceledException when cancellationToken.IsCancellationRequested:
                    metrics.ClientDisconnected("breaker");
                    throw exception;
                case TimeoutRejectedException:
                    Log.BackendTimedOut(logger, pool.Name);
                    return new BackendProblemResponse(HttpStatusCode.GatewayTimeout, "Model backend timed out", "Backend '" + pool.Name + "' did not answer in time.");
                default:
                    Log.BackendFailed(logger, pool.Name, exception.GetType().Name);
                    return new BackendProblemResponse(HttpStatusCode.BadGateway, "Model backend failed", "Backend '" + pool.Name + "' could not be reached or broke the connection.");
            }
        }

        var response = outcome.Result!;
        if (response is not BackendProblemResponse && (int)response.StatusCode >= 500)
        {
            var status = (int)response.StatusCode;
            response.Dispose();
            Log.BackendAnsweredError(logger, pool.Name, status);
            return new BackendProblemResponse(HttpStatusCode.BadGateway, "Model backend failed", "Backend '" + pool.Name + "' answered with an error.");
        }

        return response;
    }

    private async ValueTask<Outcome<HttpResponseMessage>> AttemptAsync(ResilienceContext context, PoolCall call)
    {
        var replicas = pool.Replicas;
        while (true)
        {
            var index = pool.Select(call.Refused, call.Tried);
            if (index < 0)
            {
                return Outcome.FromResult<HttpResponseMessage>(pool.Unavailable());
            }

            var replica = replicas[index];
            call.Tried |= 1UL << index;
            call.Replica = replica;
            call.Request.RequestUri = new Uri(replica.BaseUri!, call.RelativeUri);
            replica.Enter();
            var started = time.GetTimestamp();
            var outcome = await replica.HttpPipeline.ExecuteOutcomeAsync(static (ctx, state) => state.Handler.SendToReplicaAsync(ctx, state), context, call).ConfigureAwait(false);
            if (outcome.Exception is BrokenCircuitException or IsolatedCircuitException)
            {
                // Refused before anything was sent: any other replica may take it, whatever the method.
                replica.Exit();
                call.Refused |= 1UL << index;
                continue;
            }

            var seconds = time.GetElapsedTime(started).TotalSeconds;
            if (outcome.Exception is { } exception)
            {
                replica.Exit();
                var name = exception is TimeoutRejectedException ? "timeout" : exception is OperationCanceledException ? "cancelled" : "error";
                metrics.BackendCall(null, pool.Name, replica.Replica, seconds, name);
                return outcome;
            }

            var response = outcome.Result!;
            var status = (int)response.StatusCode;
            metrics.BackendCall(null, pool.Name, replica.Replica, seconds, status >= 500 ? "error" : "success", status);
            response.Content = new LeasedContent(response.Content, replica);
            return outcome;
        }
    }

    private async ValueTask<Outcome<HttpResponseMessage>> SendToReplicaAsync(ResilienceContext context, PoolCall call)
    {
        try
        {
            var response = await base.SendAsync(call.Request, context.CancellationToken).ConfigureAwait(false);
            return Outcome.FromResult(response);
        }
        catch (Exception exception)
        {
            return Outcome.FromException<HttpResponseMessage>(exception);
        }
    }

    private static bool IsIdempotent(HttpRequestMessage request)
    {
        if (request.Options.TryGetValue(BackendRequestOptions.Idempotent, out var marked))
        {
            return marked;
        }

        var method = request.Method;
        return method == HttpMethod.Get || method == HttpMethod.Head || method == HttpMethod.Options
            || method == HttpMethod.Put || method == HttpMethod.Delete;
    }

    private sealed class PoolCall(BackendPoolHandler handler, HttpRequestMessage request, string relativeUri)
    {
        public BackendPoolHandler Handler { get; } = handler;

        public HttpRequestMessage Request { get; } = request;

        public string RelativeUri { get; } = relativeUri;

        public ulong Refused { get; set; }

        public ulong Tried { get; set; }

        public Circuit? Replica { get; set; }
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
