using System.Runtime.ExceptionServices;
using Polly;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace AiEdge.Middleware.Resilience.Internal;

/// <summary>
/// The innermost <see cref="DelegatingHandler"/> of an <see cref="HttpClient"/> calling a backend pool: each attempt
/// (the first, and each retry of the resilience handler above) goes to a replica chosen among the available ones
/// (least outstanding per weight, or two random choices), preferring one this call has not tried, through that
/// replica's breaker and attempt timeout. A replica refused by its breaker is skipped at once, whatever the method:
/// the backend never saw the call. When no replica can take it, the pool's 503 with <c>Retry-After</c> is the answer.
/// The response body is leased, so a stream counts as in flight on its replica until it is disposed. Failures are
/// thrown as they came, for the retry and the answer mapping above to judge.
/// </summary>
internal sealed class ReplicaHandler(BackendPool pool, ResilienceMetrics metrics, TimeProvider time) : DelegatingHandler
{
    private static readonly HttpRequestOptionsKey<PoolCall> CallKey = new("AiEdge.Resilience.PoolCall");

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        // A retry sends the same message again: the call remembers its relative URI and the replicas it tried.
        if (!request.Options.TryGetValue(CallKey, out var call))
        {
            call = new PoolCall(this, request, RelativeUri(request.RequestUri));
            request.Options.Set(CallKey, call);
        }

        var context = ResilienceContextPool.Shared.Get(cancellationToken);
        try
        {
            var outcome = await AttemptAsync(context, call).ConfigureAwait(false);
            if (outcome.Exception is { } exception)
            {
                ExceptionDispatchInfo.Throw(exception);
            }

            return outcome.Result!;
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    private static string RelativeUri(Uri? uri)
    {
        var relative = uri is null ? string.Empty : uri.IsAbsoluteUri ? uri.PathAndQuery : uri.OriginalString;
        return relative.StartsWith('/') ? relative[1..] : relative;
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

    private sealed class PoolCall(ReplicaHandler handler, HttpRequestMessage request, string relativeUri)
    {
        public ReplicaHandler Handler { get; } = handler;

        public HttpRequestMessage Request { get; } = request;

        public string RelativeUri { get; } = relativeUri;

        public ulong Refused { get; set; }

        public ulong Tried { get; set; }
    }
}
