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
    TimeProvider time,
    ILogger<ProxyErrorMiddleware> logger)
{
    private static readonly byte[] TimeoutEvent = "event: error\ndata: {\"error\":{\"message\":\"The model backend stopped sending in time.\",\"type\":\"server_error\",\"code\":\"backend_stream_timeout\"}}\n\n"u8.ToArray();

    private readonly int _maxRetries = options.Value.MaxRetryAttempts;
    private readonly TimeSpan _firstByte = options.Value.Streams.FirstByteTimeout;
    private readonly TimeSpan _idle = options.Value.Streams.IdleTimeout;
    private readonly TimeSpan _total = options.Value.Streams.TotalTimeout;

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
        using var deadlines = Deadlines(context);
        var guard = new ProxyCallGuard(lifetime, body, context.Response, deadlines);
        features.Set<IHttpRequestLifetimeFeature>(guard);
        features.Set<IHttpResponseBodyFeature>(guard);
        features.Set(guard);
        if (reset is not null)
        {
            features.Set<IHttpResetFeature>(null);   // YARP resets HTTP/2 streams through it: go through the guard instead
        }

        try
        {
            await AttemptAsync(context, guard).ConfigureAwait(false);
            while (retries-- > 0 && ShouldRetry(context, guard, lifetime) && Others(candidates!, proxy!.ProxiedDestination) is { Count: > 0 } others)
            {
                Log.Retrying(logger, context.GetRouteModel().Cluster?.ClusterId ?? "?", proxy.ProxiedDestination?.DestinationId ?? "-", RetryReason(context, guard));
                features.Set<IForwarderErrorFeature>(null);
                context.Response.Clear();
                if (context.Request.Body.CanSeek)
                {
                    context.Request.Body.Position = 0;
                }

                candidates = others;
                proxy.AvailableDestinations = others;
                await AttemptAsync(context, guard).ConfigureAwait(false);
            }
        }
        finally
        {
            guard.Meter?.Dispose();
            features.Set(lifetime);
            features.Set(body);
            features.Set<ProxyCallGuard>(null);
            if (reset is not null)
            {
                features.Set(reset);
            }
        }

        var error = features.Get<IForwarderErrorFeature>()?.Error ?? ForwarderError.None;
        if (guard.Meter is { } meter)
        {
            Log.StreamMetered(logger, context.GetRouteModel().Cluster?.ClusterId ?? "?", meter.UsageSeen ? "backend" : "estimate", meter.Removed);
        }

        if (error != ForwarderError.None && deadlines?.Expired is { } expired && expired != StreamTimeout.None && !lifetime.RequestAborted.IsCancellationRequested)
        {
            await AnswerTimeoutAsync(context, expired, guard, lifetime).ConfigureAwait(false);
            return;
        }

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

    /// <summary>One attempt at forwarding: YARP's pipeline under a fresh attempt token, then the meter's last event.</summary>
    private async Task AttemptAsync(HttpContext context, ProxyCallGuard guard)
    {
        guard.BeginAttempt();
        await next(context).ConfigureAwait(false);
        await guard.CompleteAttemptAsync((context.Features.Get<IForwarderErrorFeature>()?.Error ?? ForwarderError.None) == ForwarderError.None).ConfigureAwait(false);
    }

    /// <summary>The call's timeouts: the route's metadata over <c>AiEdge:ReverseProxy:Streams</c>; none when all are off.</summary>
    private StreamDeadlines? Deadlines(HttpContext context)
    {
        var route = context.GetEndpoint()?.Metadata.GetMetadata<ProxyStreamLimits>();
        var firstByte = route?.FirstByte ?? _firstByte;
        var idle = route?.Idle ?? _idle;
        var total = route?.Total ?? _total;
        return firstByte > TimeSpan.Zero || idle > TimeSpan.Zero || total > TimeSpan.Zero
            ? new StreamDeadlines(time, firstByte, idle, total)
            : null;
    }

    private static string RetryReason(HttpContext context, ProxyCallGuard guard)
        => guard.Deadlines?.Expired == StreamTimeout.FirstByte ? "FirstByteTimeout" : context.Features.Get<IForwarderErrorFeature>()!.Error.ToString();

    /// <summary>
    /// Answers a call one of whose timeouts expired: nothing relayed yet is a 504 problem; a started event stream ends
    /// with a final <c>event: error</c> (the relay stops between events) and closes; any other started answer is
    /// aborted, so it never looks complete.
    /// </summary>
    private async Task AnswerTimeoutAsync(HttpContext context, StreamTimeout expired, ProxyCallGuard guard, IHttpRequestLifetimeFeature lifetime)
    {
        var clusterId = context.GetRouteModel().Cluster?.ClusterId ?? "?";
        var destination = context.Features.Get<IReverseProxyFeature>()?.ProxiedDestination?.DestinationId ?? "-";
        var route = context.GetRouteModel().Config.RouteId;
        if (!context.Response.HasStarted)
        {
            Log.TimedOut(logger, route, TimeoutName(expired), clusterId, destination, guard.BytesRelayed, "answered 504");
            context.Response.Clear();
            await ProxyProblems.TimeoutAsync(context).ConfigureAwait(false);
            return;
        }

        if (!ProxyCallGuard.IsEventStream(context.Response.ContentType) || !guard.AtEventBoundary)
        {
            Log.TimedOut(logger, route, TimeoutName(expired), clusterId, destination, guard.BytesRelayed, "aborted");
            lifetime.Abort();
            return;
        }

        Log.TimedOut(logger, route, TimeoutName(expired), clusterId, destination, guard.BytesRelayed, "ended with an error event");
        try
        {
            await context.Response.Body.WriteAsync(TimeoutEvent, lifetime.RequestAborted).ConfigureAwait(false);
            await context.Response.Body.FlushAsync(lifetime.RequestAborted).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is OperationCanceledException or IOException)
        {
            // The caller went away while the stream was being ended: nothing left to tell it.
        }
    }

    private static string TimeoutName(StreamTimeout timeout) => timeout switch
    {
        StreamTimeout.FirstByte => "FirstByteTimeout",
        StreamTimeout.Idle => "IdleTimeout",
        _ => "TotalTimeout",
    };

    /// <summary>A call that cannot double-spend: a safe method, or any call carrying an <c>Idempotency-Key</c>.</summary>
    private static bool CannotDoubleSpend(HttpRequest request)
        => HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method) || HttpMethods.IsOptions(request.Method)
            || request.Headers.ContainsKey("Idempotency-Key");

    /// <summary>Whether the attempt failed before anything reached the caller, in a way another destination may not.</summary>
    private static bool ShouldRetry(HttpContext context, ProxyCallGuard guard, IHttpRequestLifetimeFeature lifetime)
        => !context.Response.HasStarted && guard.BytesRelayed == 0
            && context.Features.Get<IForwarderErrorFeature>()?.Error is { } error && error != ForwarderError.None
            && (error is ForwarderError.Request or ForwarderError.RequestTimedOut or ForwarderError.ResponseHeaders
                || guard.Deadlines?.Expired == StreamTimeout.FirstByte)
            && !lifetime.RequestAborted.IsCancellationRequested;

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

        [LoggerMessage(2310, LogLevel.Warning, "Route {Route}: the {Timeout} of destination {Cluster}/{Destination} expired after {Bytes} bytes were relayed; the call was {Ending}.", EventName = "ProxyTimedOut")]
        public static partial void TimedOut(ILogger logger, string route, string timeout, string cluster, string destination, long bytes, string ending);

        [LoggerMessage(2311, LogLevel.Debug, "Stream of cluster {Cluster} metered for the token budget from the {Source} ({Removed} added usage chunks removed).", EventName = "ProxyStreamMetered")]
        public static partial void StreamMetered(ILogger logger, string cluster, string source, int removed);

        [LoggerMessage(2308, LogLevel.Debug, "The caller of {Cluster}/{Destination} went away or sent a broken body ({Error}).", EventName = "ProxyCallerGone")]
        public static partial void CallerGone(ILogger logger, string cluster, string destination, string error);
    }
}
