using System.Buffers;
using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AiEdge.Middleware.Health.Internal;

/// <summary>
/// Answers the liveness and readiness paths at the Health stage (before authentication, rate limiting and
/// caching); every other request passes through untouched.
/// </summary>
internal sealed partial class HealthMiddleware
{
    private static readonly byte[] LiveBody = """{"status":"Healthy"}"""u8.ToArray();
    private static readonly JsonWriterOptions WriterOptions = new() { SkipValidation = true };

    private readonly RequestDelegate _next;
    private readonly ReadinessCache _readiness;
    private readonly ILogger<HealthMiddleware> _logger;
    private readonly PathString _livenessPath;
    private readonly PathString _readinessPath;
    private readonly int _healthy;
    private readonly int _degraded;
    private readonly int _unhealthy;
    private readonly string _retryAfter;

    public HealthMiddleware(RequestDelegate next, ReadinessCache readiness, IOptions<EdgeHealthOptions> options, ILogger<HealthMiddleware> logger)
    {
        _next = next;
        _readiness = readiness;
        _logger = logger;
        var value = options.Value;
        _livenessPath = new PathString(value.LivenessPath);
        _readinessPath = new PathString(value.ReadinessPath);
        _healthy = value.HealthyStatusCode;
        _degraded = value.DegradedStatusCode;
        _unhealthy = value.UnhealthyStatusCode;
        _retryAfter = Math.Max(1, (int)Math.Ceiling(value.CacheDuration.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
    }

    public Task InvokeAsync(HttpContext context)
    {
        var path = context.Request.Path;
        if (path.Equals(_livenessPath, StringComparison.OrdinalIgnoreCase))
        {
            return IsProbeMethod(context) ? LiveAsync(context) : NotAllowedAsync(context);
        }

        if (path.Equals(_readinessPath, StringComparison.OrdinalIgnoreCase))
        {
            return IsProbeMethod(context) ? ReadyAsync(context) : NotAllowedAsync(context);
        }

        return _next(context);
    }

    private static bool IsProbeMethod(HttpContext context)
        => HttpMethods.IsGet(context.Request.Method) || HttpMethods.IsHead(context.Request.Method);

    private static Task LiveAsync(HttpContext context)
    {
        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "application/json";
        response.Headers.CacheControl = "no-store";
        response.ContentLength = LiveBody.Length;
        return HttpMethods.IsHead(context.Request.Method) ? Task.CompletedTask : response.Body.WriteAsync(LiveBody, 0, LiveBody.Length, context.RequestAborted);
    }

    private static Task NotAllowedAsync(HttpContext context)
    {
        context.Response.Headers.Allow = "GET, HEAD";
        return AiEdgeProblems.WriteAsync(context, StatusCodes.Status405MethodNotAllowed, "Method not allowed", "Health endpoints answer GET and HEAD.");
    }

    private async Task ReadyAsync(HttpContext context)
    {
        HealthReport report;
        try
        {
            report = await _readiness.GetAsync().WaitAsync(context.RequestAborted).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            return;
        }

        var response = context.Response;
        response.StatusCode = report.Status switch
        {
            HealthStatus.Healthy => _healthy,
            HealthStatus.Degraded => _degraded,
            _ => _unhealthy,
        };
        response.ContentType = "application/json";
        response.Headers.CacheControl = "no-store";
        if (response.StatusCode == StatusCodes.Status503ServiceUnavailable)
        {
            response.Headers.RetryAfter = _retryAfter;
        }

        if (report.Status != HealthStatus.Healthy)
        {
            Log.NotReady(_logger, report.Status);
        }

        // The report is written to a buffer first so HEAD can state the Content-Length GET would send.
        var body = new ArrayBufferWriter<byte>(512);
        using (var writer = new Utf8JsonWriter(body, WriterOptions))
        {
            WriteReport(writer, report);
        }

        response.ContentLength = body.WrittenCount;
        if (HttpMethods.IsHead(context.Request.Method))
        {
            return;
        }

        await response.Body.WriteAsync(body.WrittenMemory, context.RequestAborted).ConfigureAwait(false);
    }

    internal static void WriteReport(Utf8JsonWriter writer, HealthReport report)
    {
        writer.WriteStartObject();
        writer.WriteString("status", StatusName(report.Status));
        writer.WriteNumber("totalDurationMs", Math.Round(report.TotalDuration.TotalMilliseconds, 3));
        writer.WriteStartArray("checks");
        foreach (var (name, entry) in report.Entries)
        {
            writer.WriteStartObject();
            writer.WriteString("name", name);
            writer.WriteString("status", StatusName(entry.Status));
            if (entry.Description is not null)
            {
                writer.WriteString("description", entry.Description);
            }

            writer.WriteNumber("durationMs", Math.Round(entry.Duration.TotalMilliseconds, 3));
            if (entry.Exception is not null)
            {
                writer.WriteString("error", entry.Exception.GetType().Name);
            }

            writer.WriteStartArray("tags");
            foreach (var tag in entry.Tags)
            {
                writer.WriteStringValue(tag);
            }

            writer.WriteEndArray();
            if (entry.Data.Count > 0)
            {
                writer.WriteStartObject("data");
                foreach (var (key, value) in entry.Data)
                {
                    writer.WritePropertyName(key);
                    WriteValue(writer, value);
                }

                writer.WriteEndObject();
            }

            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    private static void WriteValue(Utf8JsonWriter writer, object? value)
    {
        switch (value)
        {
            case null:
                writer.WriteNullValue();
                break;
            case string text:
                writer.WriteStringValue(text);
                break;
            case bool flag:
                writer.WriteBooleanValue(flag);
                break;
            case int number:
                writer.WriteNumberValue(number);
                break;
            case long number:
                writer.WriteNumberValue(number);
                break;
            case double number:
                writer.WriteNumberValue(number);
                break;
            case TimeSpan span:
                writer.WriteNumberValue(span.TotalMilliseconds);
                break;
            default:
                writer.WriteStringValue(Convert.ToString(value, CultureInfo.InvariantCulture));
                break;
        }
    }

    private static string StatusName(HealthStatus status) => status switch
    {
        HealthStatus.Healthy => "Healthy",
        HealthStatus.Degraded => "Degraded",
        _ => "Unhealthy",
    };

    private static partial class Log
    {
        [LoggerMessage(1701, LogLevel.Debug, "Readiness probe answered {Status}.", EventName = "NotReady")]
        public static partial void NotReady(ILogger logger, HealthStatus status);
    }
}
