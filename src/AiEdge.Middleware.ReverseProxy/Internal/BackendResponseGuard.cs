using System.Collections.Frozen;
using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Model;
using Yarp.ReverseProxy.Transforms;
using Yarp.ReverseProxy.Transforms.Builder;

namespace AiEdge.Middleware.ReverseProxy.Internal;

/// <summary>
/// A response transform on every route: a backend's 5xx becomes AiEdge's problem answer (502; 503 with
/// <c>Retry-After</c>; 504) instead of being relayed; a 429 or 503 with <c>Retry-After</c> cools the destination
/// down for that long; the caller's credentials are not forwarded; <c>Set-Cookie</c>, <c>Server</c>, <c>X-Powered-By</c>, internal headers and the headers the
/// backend's <c>Connection</c> names are not relayed unless allowed.
/// </summary>
internal sealed partial class BackendResponseGuard : ITransformProvider
{
    private static readonly string[] Dropped = ["Set-Cookie", "Server", "X-Powered-By"];
    private readonly DestinationBreakers _breakers;
    private readonly SharedCooldowns _cooldowns;
    private readonly ILogger _logger;
    private readonly FrozenSet<string> _allowed;
    private readonly string[] _internalPrefixes;
    private readonly Func<ResponseTransformContext, ValueTask> _transform;
    private readonly Func<RequestTransformContext, ValueTask> _requestTransform;
    private readonly string[] _removedRequestHeaders;

    public BackendResponseGuard(IOptions<AiEdgeReverseProxyOptions> options, DestinationBreakers breakers, SharedCooldowns cooldowns, ILogger<BackendResponseGuard> logger)
    {
        _breakers = breakers;
        _cooldowns = cooldowns;
        _logger = logger;
        _allowed = options.Value.AllowedResponseHeaders.ToFrozenSet(StringComparer.OrdinalIgnoreCase);
        _internalPrefixes = [.. options.Value.InternalHeaderPrefixes];
        _removedRequestHeaders = [.. options.Value.RemovedRequestHeaders];
        _transform = TransformAsync;
        _requestTransform = RemoveCredentials;
    }

    public void ValidateRoute(TransformRouteValidationContext context)
    {
    }

    public void ValidateCluster(TransformClusterValidationContext context)
    {
    }

    public void Apply(TransformBuilderContext context)
    {
        if (_removedRequestHeaders.Length > 0)
        {
            context.AddRequestTransform(_requestTransform);
        }

        context.AddResponseTransform(_transform);
    }

    private ValueTask RemoveCredentials(RequestTransformContext context)
    {
        var headers = context.ProxyRequest.Headers;
        foreach (var name in _removedRequestHeaders)
        {
            headers.Remove(name);
        }

        return ValueTask.CompletedTask;
    }

    private ValueTask TransformAsync(ResponseTransformContext context)
    {
        var backend = context.ProxyResponse;
        if (backend is null)
        {
            return ValueTask.CompletedTask;   // a forwarder error: ProxyErrorMiddleware answers it
        }

        var status = (int)backend.StatusCode;
        if (status is StatusCodes.Status429TooManyRequests or StatusCodes.Status503ServiceUnavailable && backend.Headers.RetryAfter is { } retryAfter
            && CoolDown(context.HttpContext, retryAfter) is { IsCompletedSuccessfully: false } recording)
        {
            return TransformAfterCoolDownAsync(recording, context, status);
        }

        return TransformStatus(context, status);
    }

    private async ValueTask TransformAfterCoolDownAsync(ValueTask recording, ResponseTransformContext context, int status)
    {
        // Recorded before the answer goes out: a caller retrying at once, at any replica, finds the destination out.
        await recording.ConfigureAwait(false);
        await TransformStatus(context, status).ConfigureAwait(false);
    }

    private ValueTask TransformStatus(ResponseTransformContext context, int status)
    {
        var backend = context.ProxyResponse!;
        if (status >= 500)
        {
            return AnswerBackendErrorAsync(context, status);
        }

        StripHeaders(context.HttpContext.Response.Headers, backend);
        return ValueTask.CompletedTask;
    }

    private ValueTask CoolDown(HttpContext context, System.Net.Http.Headers.RetryConditionHeaderValue retryAfter)
    {
        var period = retryAfter.Delta ?? (retryAfter.Date is { } date ? date - _breakers.Time.GetUtcNow() : TimeSpan.Zero);
        if (period <= TimeSpan.Zero)
        {
            return ValueTask.CompletedTask;
        }

        var feature = context.Features.Get<Yarp.ReverseProxy.Model.IReverseProxyFeature>();
        var cluster = context.GetRouteModel().Cluster;
        if (feature?.ProxiedDestination is { } destination && cluster is not null)
        {
            return _cooldowns.CoolDownAsync(cluster, destination, period);
        }

        return ValueTask.CompletedTask;
    }

    private async ValueTask AnswerBackendErrorAsync(ResponseTransformContext context, int status)
    {
        context.SuppressResponseBody = true;
        var http = context.HttpContext;
        var destination = http.Features.Get<IReverseProxyFeature>()?.ProxiedDestination;
        var cluster = http.GetRouteModel().Cluster;
        if (cluster is not null && destination is not null)
        {
            // Counted before the answer is written: the caller's next call already sees the breaker's verdict.
            _breakers.Get(cluster, destination).Record(success: false);
            http.Features.Set(OutcomeRecorded.Instance);
        }

        Log.BackendErrorStatus(_logger, cluster?.ClusterId ?? "?", destination?.DestinationId ?? "?", status);
        http.Response.Clear();
        if (status == StatusCodes.Status503ServiceUnavailable)
        {
            var seconds = context.ProxyResponse!.Headers.RetryAfter?.Delta is { } delta ? Math.Max(1, (int)Math.Ceiling(delta.TotalSeconds)) : 1;
            await ProxyProblems.UnavailableAsync(http, seconds, "The backend is unavailable.").ConfigureAwait(false);
            return;
        }

        await (status == StatusCodes.Status504GatewayTimeout
            ? ProxyProblems.TimeoutAsync(http)
            : ProxyProblems.BadGatewayAsync(http, "The backend failed.")).ConfigureAwait(false);
    }

    private void StripHeaders(IHeaderDictionary headers, System.Net.Http.HttpResponseMessage backend)
    {
        foreach (var name in Dropped)
        {
            if (!_allowed.Contains(name))
            {
                headers.Remove(name);
            }
        }

        foreach (var named in backend.Headers.Connection)
        {
            headers.Remove(named);
        }

        if (_internalPrefixes.Length == 0)
        {
            return;
        }

        List<string>? remove = null;
        foreach (var header in headers)
        {
            if (StartsWithAny(header.Key, _internalPrefixes) && !_allowed.Contains(header.Key))
            {
                (remove ??= []).Add(header.Key);
            }
        }

        if (remove is not null)
        {
            foreach (var name in remove)
            {
                headers.Remove(name);
            }
        }
    }

    private static bool StartsWithAny(string name, string[] prefixes)
    {
        foreach (var prefix in prefixes)
        {
            if (name.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    private static partial class Log
    {
        [LoggerMessage(2307, LogLevel.Warning, "Backend {Cluster}/{Destination} answered {Status}; the caller gets a problem answer instead.", EventName = "BackendErrorStatus")]
        public static partial void BackendErrorStatus(ILogger logger, string cluster, string destination, int status);
    }
}
