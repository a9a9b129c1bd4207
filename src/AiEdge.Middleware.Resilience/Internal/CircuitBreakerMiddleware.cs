using System.Net;
using AiEdge.Middleware.Internal;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace AiEdge.Middleware.Resilience.Internal;

/// <summary>
/// Protects endpoints that call a model in-process with their named breaker: an open breaker answers 503 with
/// <c>Retry-After</c> before the endpoint runs; otherwise the endpoint runs inside the breaker and its attempt
/// timeout, an exception becomes 502 and a timeout 504 (problem details, when the response has not started).
/// </summary>
internal sealed partial class CircuitBreakerMiddleware(RequestDelegate next, BreakerRegistry registry, ResilienceMetrics metrics, TimeProvider time, ILogger<CircuitBreakerMiddleware> logger)
{
    public Task InvokeAsync(HttpContext context)
    {
        var metadata = RequestFeatures.Endpoint(context)?.Metadata.GetMetadata<ICircuitBreakerMetadata>();
        if (metadata is null)
        {
            return next(context);
        }

        var circuit = registry.FindBreaker(metadata.BreakerName);
        return circuit is null ? UnknownBreakerAsync(context, metadata.BreakerName) : InvokeProtectedAsync(context, circuit);
    }

    private async Task InvokeProtectedAsync(HttpContext context, Circuit circuit)
    {
        var remaining = circuit.RemainingBreak(time.GetUtcNow());
        if (remaining > TimeSpan.Zero)
        {
            await RejectAsync(context, circuit, remaining).ConfigureAwait(false);
            return;
        }

        var aborted = context.RequestAborted;
        var resilience = ResilienceContextPool.Shared.Get(aborted);
        var started = time.GetTimestamp();
        Outcome<int> outcome;
        try
        {
            outcome = await circuit.EndpointPipeline.ExecuteOutcomeAsync(
                static async (ctx, state) =>
                {
                    state.Context.RequestAborted = ctx.CancellationToken;
                    try
                    {
                        await state.Next(state.Context).ConfigureAwait(false);
                        return Outcome.FromResult(state.Context.Response.StatusCode);
                    }
                    catch (Exception exception)
                    {
                        return Outcome.FromException<int>(exception);
                    }
                },
                resilience,
                (Next: next, Context: context)).ConfigureAwait(false);
        }
        finally
        {
            context.RequestAborted = aborted;
            ResilienceContextPool.Shared.Return(resilience);
        }

        var seconds = time.GetElapsedTime(started).TotalSeconds;
        switch (outcome.Exception)
        {
            case null:
                metrics.BackendCall(context, circuit.Breaker, null, seconds, outcome.Result >= 500 ? "error" : "success", outcome.Result);
                return;
            case BrokenCircuitException or IsolatedCircuitException:
                await RejectAsync(context, circuit, circuit.RemainingBreak(time.GetUtcNow())).ConfigureAwait(false);
                return;
            case TimeoutRejectedException:
                metrics.BackendCall(context, circuit.Breaker, null, seconds, "timeout", StatusCodes.Status504GatewayTimeout);
                Log.ModelTimedOut(logger, circuit.Breaker);
                await AnswerFailureAsync(context, StatusCodes.Status504GatewayTimeout, "Model timed out", circuit.TimeoutDetail).ConfigureAwait(false);
                return;
            case OperationCanceledException when aborted.IsCancellationRequested:
                metrics.BackendCall(context, circuit.Breaker, null, seconds, "cancelled");
                metrics.ClientDisconnected("breaker");
                Log.ClientDisconnected(logger, circuit.Breaker);
                return;
            case { } exception when AiEdgeClientErrors.TryGetStatusCode(exception, aborted, out _):
                // The client's fault (a malformed, too large or truncated body the endpoint was reading, or a client
                // gone): not the model's failure, not counted against the breaker; the Errors stage answers it 4xx.
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(exception);
                return;
            default:
                metrics.BackendCall(context, circuit.Breaker, null, seconds, "error", StatusCodes.Status502BadGateway);
                Log.ModelFailed(logger, circuit.Breaker, outcome.Exception);
                await AnswerFailureAsync(context, StatusCodes.Status502BadGateway, "Model failed", circuit.FailedDetail).ConfigureAwait(false);
                return;
        }
    }

    private Task RejectAsync(HttpContext context, Circuit circuit, TimeSpan remaining)
    {
        metrics.BackendCall(context, circuit.Breaker, null, 0, "rejected", StatusCodes.Status503ServiceUnavailable);
        Log.Rejected(logger, circuit.Breaker);
        if (context.Response.HasStarted)
        {
            return Task.CompletedTask;
        }

        context.Response.Headers.RetryAfter = BackendProblemResponse.ToRetryAfterSeconds(remaining).ToString(System.Globalization.CultureInfo.InvariantCulture);
        return AiEdgeProblems.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, "Model unavailable",
            circuit.OpenDetail, BackendProblemResponse.TypeFor(HttpStatusCode.ServiceUnavailable));
    }

    private static Task AnswerFailureAsync(HttpContext context, int status, string title, string detail)
    {
        if (context.Response.HasStarted)
        {
            context.Abort();
            return Task.CompletedTask;
        }

        context.Response.Clear();
        return AiEdgeProblems.WriteAsync(context, status, title, detail, BackendProblemResponse.TypeFor((HttpStatusCode)status));
    }

    private static Task UnknownBreakerAsync(HttpContext context, string name)
        => throw new InvalidOperationException("Circuit breaker '" + name + "' is not configured under AiEdge:Resilience:Breakers.");

    private static partial class Log
    {
        [LoggerMessage(1620, LogLevel.Debug, "Request refused: circuit breaker {Breaker} is open.", EventName = "BreakerRejected")]
        public static partial void Rejected(ILogger logger, string breaker);

        [LoggerMessage(1621, LogLevel.Warning, "The model behind breaker {Breaker} timed out.", EventName = "ModelTimedOut")]
        public static partial void ModelTimedOut(ILogger logger, string breaker);

        [LoggerMessage(1622, LogLevel.Error, "The model behind breaker {Breaker} failed.", EventName = "ModelFailed")]
        public static partial void ModelFailed(ILogger logger, string breaker, Exception? exception);

        [LoggerMessage(1623, LogLevel.Debug, "The client went away while breaker {Breaker} protected the call.", EventName = "BreakerClientDisconnected")]
        public static partial void ClientDisconnected(ILogger logger, string breaker);
    }
}
