using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Runtime.CompilerServices;
using AiEdge.Middleware.Internal;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.ObjectPool;
using Microsoft.Extensions.Options;

namespace AiEdge.Middleware.AccessLog.Internal;

/// <summary>
/// Adds the <see cref="AiEdgeDecisionsFeature"/> at the start of the request so every concern's decisions land in it,
/// counts the body bytes sent, and writes one <c>[LoggerMessage]</c> event when the request ends.
/// </summary>
internal sealed partial class AccessLogMiddleware
{
    private const string None = "-";
    private readonly RequestDelegate _next;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly bool _enabled;
    private readonly string[] _excluded;
    private readonly AccessLogField[] _fields;
    private readonly ObjectPool<RequestRecord> _pool = new DefaultObjectPool<RequestRecord>(new RecordPolicy(), Environment.ProcessorCount * 16);

    public AccessLogMiddleware(RequestDelegate next, IOptions<AccessLogOptions> options, TimeProvider time, ILoggerFactory loggerFactory, IEnumerable<AccessLogField> fields)
    {
        _fields = [.. fields];
        _next = next;
        _time = time;
        _logger = loggerFactory.CreateLogger(AccessLogOptions.Category);
        _enabled = options.Value.Enabled;
        _excluded = [.. options.Value.ExcludedPaths ?? []];
    }

    public Task InvokeAsync(HttpContext context)
    {
        if (!_enabled || !_logger.IsEnabled(LogLevel.Information) || IsExcluded(context.Request.Path))
        {
            return _next(context);
        }

        return InvokeLoggedAsync(context);
    }

    private bool IsExcluded(PathString path)
    {
        foreach (var excluded in _excluded)
        {
            if (path.Equals(excluded, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    private Task InvokeLoggedAsync(HttpContext context)
    {
        var start = _time.GetTimestamp();
        var record = _pool.Get();
        var features = context.Features;
        var body = features.Get<IHttpResponseBodyFeature>();
        if (body is not null)
        {
            record.Body.Attach(body);
            features.Set<IHttpResponseBodyFeature>(record.Body);
        }

        features.Set(record.Edge);
        Task pending;
        try
        {
            pending = _next(context);
        }
        catch
        {
            Complete(context, record, body, start, failed: true);
            throw;
        }

        if (pending.IsCompletedSuccessfully)
        {
            // The rest of the pipeline finished synchronously: no state machine.
            Complete(context, record, body, start, failed: false);
            return Task.CompletedTask;
        }

        return AwaitAndCompleteAsync(pending, context, record, body, start);
    }

    private async Task AwaitAndCompleteAsync(Task pending, HttpContext context, RequestRecord record, IHttpResponseBodyFeature? body, long start)
    {
        var failed = false;
        try
        {
            await pending;
        }
        catch
        {
            failed = true;
            throw;
        }
        finally
        {
            Complete(context, record, body, start, failed);
        }
    }

    private void Complete(HttpContext context, RequestRecord record, IHttpResponseBodyFeature? body, long start, bool failed)
    {
        var features = context.Features;
        if (body is not null)
        {
            features.Set(body);
        }

        features.Set<AiEdgeDecisionsFeature>(null);
        Write(context, record, body is not null, start, failed);
        record.Reset();
        _pool.Return(record);
    }

    private void Write(HttpContext context, RequestRecord record, bool counted, long start, bool failed)
    {
        var response = context.Response;
        var status = response.StatusCode;
        if (!response.HasStarted)
        {
            if (context.RequestAborted.IsCancellationRequested)
            {
                status = 499; // NGINX's "client closed request"
            }
            else if (failed)
            {
                status = StatusCodes.Status500InternalServerError;
            }
        }

        var edge = record.Edge;
        var totalMs = _time.GetElapsedTime(start).TotalMilliseconds;
        var backendMs = edge.TryGetTotal(AiEdgeDecisionsFeature.BackendSeconds, out var backendSeconds) ? backendSeconds * 1000 : -1;
        var bytes = counted ? record.Body.Bytes : response.ContentLength ?? 0;
        // After an unhandled exception the handler clears the endpoint; its feature keeps the one that failed.
        var endpoint = RequestFeatures.Endpoint(context) ?? RequestFeatures.Get<IExceptionHandlerFeature>(context)?.Endpoint;
        var route = (endpoint as RouteEndpoint)?.RoutePattern.RawText ?? None;
        Log.Request(
            _logger,
            context.Connection.RemoteIpAddress,
            context.Request.Method,
            route,
            status,
            bytes,
            totalMs,
            backendMs,
            edge.Get(AiEdgeDiagnostics.Tags.CacheStatus) ?? None,
            edge.Get(AiEdgeDiagnostics.Tags.RateLimitDecision) ?? None,
            edge.Get(AiEdgeDiagnostics.Tags.Tier) ?? None,
            new TraceIdValue(Activity.Current),
            _fields.Length == 0 ? string.Empty : FormatFields(edge));
    }

    /// <summary>
    /// The packages' fields the request recorded, as <c> name=value</c> each (a leading space apiece), or the empty
    /// string (no allocation) when it recorded none. Formatted here rather than by the provider: the record is reused as
    /// soon as the event is written.
    /// </summary>
    private string FormatFields(AiEdgeDecisionsFeature edge)
    {
        var any = false;
        foreach (var field in _fields)
        {
            if (field.IsSeconds ? edge.TryGetTotal(field.DecisionName, out _) : edge.Get(field.DecisionName) is not null)
            {
                any = true;
                break;
            }
        }

        if (!any)
        {
            return string.Empty;
        }

        var text = new DefaultInterpolatedStringHandler(0, 0, CultureInfo.InvariantCulture, stackalloc char[256]);
        foreach (var field in _fields)
        {
            if (field.IsSeconds)
            {
                if (edge.TryGetTotal(field.DecisionName, out var seconds))
                {
                    text.AppendLiteral(" ");
                    text.AppendLiteral(field.Name);
                    text.AppendLiteral("=");
                    text.AppendFormatted(seconds * 1000, "0.###");
                }
            }
            else if (edge.Get(field.DecisionName) is { } value)
            {
                text.AppendLiteral(" ");
                text.AppendLiteral(field.Name);
                text.AppendLiteral("=");
                text.AppendLiteral(value);
            }
        }

        return text.ToStringAndClear();
    }

    /// <summary>The pooled per-request state.</summary>
    internal sealed class RequestRecord
    {
        public AiEdgeDecisionsFeature Edge { get; } = new();

        public CountingResponseBody Body { get; } = new();

        public void Reset()
        {
            Edge.Reset();
            Body.Detach();
        }
    }

    private sealed class RecordPolicy : PooledObjectPolicy<RequestRecord>
    {
        public override RequestRecord Create() => new();

        public override bool Return(RequestRecord obj) => true;
    }

    /// <summary>The request's trace id, formatted only when a logging provider asks for it.</summary>
    internal readonly struct TraceIdValue(Activity? activity)
    {
        public override string ToString() => activity is null ? None : activity.TraceId.ToHexString();
    }

    private static partial class Log
    {
        [LoggerMessage(
            1900,
            LogLevel.Information,
            "{ClientIp} \"{Method} {Route}\" {StatusCode} {BytesSent} rt={DurationMs:0.###} ut={BackendMs:0.###} cache={CacheStatus} limit={RateLimitDecision} tier={Tier} trace={TraceId}{Fields}",
            EventName = "Request")]
        public static partial void Request(
            ILogger logger,
            IPAddress? clientIp,
            string method,
            string route,
            int statusCode,
            long bytesSent,
            double durationMs,
            double backendMs,
            string cacheStatus,
            string rateLimitDecision,
            string tier,
            TraceIdValue traceId,
            string fields);
    }
}
