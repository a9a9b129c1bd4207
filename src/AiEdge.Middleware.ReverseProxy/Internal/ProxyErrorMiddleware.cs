using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;

namespace AiEdge.Middleware.ReverseProxy.Internal;

/// <summary>
/// The first step of the proxy pipeline (<c>UseAiEdgeProxy()</c>): turns what YARP reports through
/// <see cref="IForwarderErrorFeature"/> into answers. No available destination is a 503 problem with
/// <c>Retry-After</c> (until the first breaker or cool-down ends); a timeout a 504; any other backend failure a 502;
/// a backend that breaks a started event stream ends it with a final error event (between events) or, mid-event,
/// aborts it. A caller that went away is no failure: nothing is written.
/// </summary>
internal sealed partial class ProxyErrorMiddleware(
    RequestDelegate next,
    DestinationBreakers breakers,
    ProxyMetrics metrics,
    Microsoft.Extensions.Options.IOptions<AiEdgeReverseProxyOptions> options,
    ILogger<ProxyErrorMiddleware> logger)
{
    private readonly int _maxRetries = options.Value.MaxRetryAttempts;

    public async Task InvokeAsync(HttpContext context)
    {
        var features = context.Features;
        var proxy = features.Get<IReverseProxyFeature>();
        var candidates = proxy is null ? null : breakers.Available(proxy.AvailableDestinations);
        if (proxy is not null)
        {
            proxy.AvailableDestinations = candidates!;
        }

        var retries = proxy is not null && _maxRetries > 0 && CannotDoubleSpend(context.Request) ? _maxRetries : 0;
        if (retries > 0 && context.Request.ContentLength != 0 && !HttpMethods.IsGet(context.Request.Method) && !HttpMethods.IsHead(context.Request.Method))
        {
            context.Request.EnableBuffering();   // sent again on a retry
        }

        var lifetime = features.Get<IHttpRequestLifetimeFeature>()!;
        var body = features.Get<IHttpResponseBodyFeature>()!;
        var reset = features.Get<IHttpResetFeature>();
        var guard = new ProxyCallGuard(lifetime, body, context.Response);
        features.Set<IHttpRequestLifetimeFeature>(guard);
        features.Set<IHttpResponseBodyFeature>(guard);
        if (reset is not null)
        {
            features.Set<IHttpResetFeature>(null);   // YARP resets HTTP/2 streams through it: go through the guard instead
        }

        try
        {
            await next(context).ConfigureAwait(false);
            while (retries-- > 0 && ShouldRetry(context, guard) && Others(candidates!, proxy!.ProxiedDestination) is { Count: > 0 } others)
            {
                Log.Retrying(logger, context.GetRouteModel().Cluster?.ClusterId ?? "?", proxy.ProxiedDestination?.DestinationId ?? "-", features.Get<IForwarderErrorFeature>()!.Error.ToString());
                features.Set<IForwarderErrorFeature>(null);
                context.Response.Clear();
                if (context.Request.Body.CanSeek)
                {
                    context.Request.Body.Position = 0;
                }

                candidates = others;
                proxy.AvailableDestinations = others;
                await next(context).ConfigureAwait(false);
            }
        }
        finally
        {
            features.Set(lifetime);
            features.Set(body);
            if (reset is not null)
            {
                features.Set(reset);
            }
        }

        var error = features.Get<IForwarderErrorFeature>()?.Error ?? ForwarderError.None;
        if (error == ForwarderError.None)
        {
            if (guard.AbortHeld)
            {
                lifetime.Abort();
            }

            return;
        }

        await AnswerAsync(context, error, guard, lifetime).ConfigureAwait(false);
    }

    /// <summary>A call that cannot double-spend: a safe method, or any call carrying an <c>Idempotency-Key</c>.</summary>
    private static bool CannotDoubleSpend(HttpRequest request)
        => HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method) || HttpMethods.IsOptions(request.Method)
            || request.Headers.ContainsKey("Idempotency-Key");

    /// <summary>Whether the attempt failed before anything reached the caller, in a way another destination may not.</summary>
    private static bool ShouldRetry(HttpContext context, ProxyCallGuard guard)
        => !context.Response.HasStarted && guard.BytesRelayed == 0
            && context.Features.Get<IForwarderErrorFeature>()?.Error is ForwarderError.Request or ForwarderError.RequestTimedOut or ForwarderError.ResponseHeaders
            && !context.RequestAborted.IsCancellationRequested;

    private static List<DestinationState>? Others(IReadOnlyList<DestinationState> candidates, DestinationState? failed)
    {
        List<DestinationState>? others = null;
        for (var i = 0; i < candidates.Count; i++)
        {
            if (!ReferenceEquals(candidates[i], failed))
            {
                (others ??= []).Add(candidates[i]);
            }
        }

        return others;
    }

    private async Task AnswerAsync(HttpContext context, ForwarderError error, ProxyCallGuard guard, IHttpRequestLifetimeFeature lifetime)
    {
        var cluster = context.GetRouteModel().Cluster;
        var clusterId = cluster?.ClusterId ?? "?";
        var destination = context.Features.Get<IReverseProxyFeature>()?.ProxiedDestination?.DestinationId ?? "-";
        if (BreakerPassiveHealthPolicy.IsCallersFault(error))
        {
            Log.CallerGone(logger, clusterId, destination, error.ToString());
            if (guard.AbortHeld)
            {
                lifetime.Abort();
            }

            return;
        }

        if (context.Response.HasStarted)
        {
            await EndStartedResponseAsync(context, guard, lifetime, clusterId, destination).ConfigureAwait(false);
            return;
        }

        switch (error)
        {
            case ForwarderError.NoAvailableDestinations:
                var seconds = cluster is null ? 1 : breakers.RetryAfterSeconds(cluster);
                Log.NoDestination(logger, clusterId, seconds);
                context.Response.Clear();
                await ProxyProblems.UnavailableAsync(context, seconds, "No backend of cluster '" + clusterId + "' is available.").ConfigureAwait(false);
                return;
            case ForwarderError.RequestTimedOut:
                Log.DestinationFailed(logger, context.GetRouteModel().Config.RouteId, clusterId, destination, error.ToString());
                context.Response.Clear();
                await ProxyProblems.TimeoutAsync(context).ConfigureAwait(false);
                return;
            default:
                Log.DestinationFailed(logger, context.GetRouteModel().Config.RouteId, clusterId, destination, error.ToString());
                context.Response.Clear();
                await ProxyProblems.BadGatewayAsync(context, "The backend could not be reached or failed.").ConfigureAwait(false);
                return;
        }
    }

    private async Task EndStartedResponseAsync(HttpContext context, ProxyCallGuard guard, IHttpRequestLifetimeFeature lifetime, string cluster, string destination)
    {
        metrics.BrokenStream(cluster, destination);
        if (!guard.AbortHeld || !guard.AtEventBoundary)
        {
            Log.StreamBroken(logger, cluster, destination, guard.BytesRelayed, "aborted");
            if (guard.AbortHeld)
            {
                lifetime.Abort();
            }

            return;
        }

        Log.StreamBroken(logger, cluster, destination, guard.BytesRelayed, "ended with an error event");
        try
        {
            await AiEdgeProblems.WriteBackendStreamBrokenEventAsync(context.Response, context.RequestAborted).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is OperationCanceledException or IOException)
        {
            // The caller went away while the stream was being ended: nothing left to tell it.
        }
    }

    private static partial class Log
    {
        [LoggerMessage(2301, LogLevel.Warning, "Route {Route}: destination {Cluster}/{Destination} failed ({Error}); the caller gets a problem answer.", EventName = "DestinationFailed")]
        public static partial void DestinationFailed(ILogger logger, string route, string cluster, string destination, string error);

        [LoggerMessage(2302, LogLevel.Warning, "Backend {Cluster}/{Destination} broke the response after {Bytes} bytes were relayed; the caller's stream was {Ending}.", EventName = "ProxyStreamBroken")]
        public static partial void StreamBroken(ILogger logger, string cluster, string destination, long bytes, string ending);

        [LoggerMessage(2303, LogLevel.Warning, "No destination of cluster {Cluster} is available; answered 503 with Retry-After {Seconds} s.", EventName = "NoDestinationAvailable")]
        public static partial void NoDestination(ILogger logger, string cluster, int seconds);

        [LoggerMessage(2309, LogLevel.Information, "Destination {Cluster}/{Destination} failed ({Error}) before anything was relayed; the call is sent to another destination.", EventName = "ProxyRetried")]
        public static partial void Retrying(ILogger logger, string cluster, string destination, string error);

        [LoggerMessage(2308, LogLevel.Debug, "The caller of {Cluster}/{Destination} went away or sent a broken body ({Error}).", EventName = "ProxyCallerGone")]
        public static partial void CallerGone(ILogger logger, string cluster, string destination, string error);
    }
}
