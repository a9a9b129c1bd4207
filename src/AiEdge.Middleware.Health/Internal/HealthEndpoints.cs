using System.Buffers;
using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.OutputCaching;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AiEdge.Middleware.Health.Internal;

/// <summary>
/// Maps the liveness and readiness probes as routed endpoints on ASP.NET Core's health-check endpoint
/// (<c>MapHealthChecks</c> and its <see cref="HealthCheckMiddleware"/>), with AiEdge's JSON body, status codes and
/// readiness cache. Each endpoint carries <see cref="HealthProbeMetadata"/> (the Health stage runs it there) and,
/// for the application's own middleware placed between <c>UseRouting()</c> and <c>UseAiEdge()</c>,
/// <c>AllowAnonymous</c>, <c>DisableRateLimiting</c> and an output-cache <c>NoCache</c> policy.
/// </summary>
internal static partial class HealthEndpoints
{
    public const string LivenessDisplayName = "AiEdge liveness probe";
    public const string ReadinessDisplayName = "AiEdge readiness probe";

    private static readonly byte[] LiveBody = """{"status":"Healthy"}"""u8.ToArray();
    private static readonly JsonWriterOptions WriterOptions = new() { SkipValidation = true };

    public static IEndpointConventionBuilder Map(IEndpointRouteBuilder endpoints)
    {
        var services = endpoints.ServiceProvider;
        var registry = services.GetService<HealthEndpointRegistry>()
            ?? throw new InvalidOperationException("AiEdge health is not registered: call builder.Services.AddAiEdge() (or AddAiEdgeCore(e => e.AddHealth())) before mapping the health endpoints.");
        var options = services.GetRequiredService<IOptions<EdgeHealthOptions>>().Value;
        registry.Add(endpoints, options);

        var readiness = services.GetRequiredService<ReadinessCache>();
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(HealthEndpoints).FullName!);

        // Liveness is ASP.NET Core's health-check endpoint exactly, with no check selected.
        var live = endpoints.MapHealthChecks(options.LivenessPath, CreateLivenessOptions());

        // Readiness is the same endpoint MapHealthChecks builds, run over the readiness cache instead of the
        // application's HealthCheckService, so probes share one run of the checks per CacheDuration.
        var pipeline = endpoints.CreateApplicationBuilder()
            .Use(static next => context => StopWaitingWhenAbortedAsync(next, context))
            .UseMiddleware<HealthCheckMiddleware>(Options.Create(CreateReadinessOptions(readiness, options, logger)), readiness)
            .Build();
        var ready = endpoints.Map(options.ReadinessPath, pipeline);

        var both = new ProbeConventionBuilder(live.WithDisplayName(LivenessDisplayName), ready.WithDisplayName(ReadinessDisplayName));
        both.WithMetadata(HealthProbeMetadata.Instance).AllowAnonymous().DisableRateLimiting().CacheOutput(static policy => policy.NoCache());
        return both;
    }

    /// <summary>The liveness options: no check runs; always <c>200 {"status":"Healthy"}</c>.</summary>
    public static HealthCheckOptions CreateLivenessOptions()
        => new()
        {
            Predicate = static _ => false,
            ResponseWriter = static (context, _) => WriteLiveAsync(context),
            AllowCachingResponses = false,
        };

    /// <summary>The readiness options: every counted check, the configured status codes, the JSON report.</summary>
    public static HealthCheckOptions CreateReadinessOptions(ReadinessCache readiness, EdgeHealthOptions options, ILogger logger)
    {
        var writer = new ReadinessWriter(options.CacheDuration, logger);
        var result = new HealthCheckOptions
        {
            Predicate = readiness.Predicate,
            ResponseWriter = writer.WriteAsync,
            AllowCachingResponses = false,
        };
        result.ResultStatusCodes[HealthStatus.Healthy] = options.HealthyStatusCode;
        result.ResultStatusCodes[HealthStatus.Degraded] = options.DegradedStatusCode;
        result.ResultStatusCodes[HealthStatus.Unhealthy] = options.UnhealthyStatusCode;
        return result;
    }

    private static Task WriteLiveAsync(HttpContext context)
    {
        var response = context.Response;
        response.ContentType = "application/json";
        response.ContentLength = LiveBody.Length;
        return HttpMethods.IsHead(context.Request.Method) ? Task.CompletedTask : response.Body.WriteAsync(LiveBody, 0, LiveBody.Length, context.RequestAborted);
    }

    /// <summary>A probe that goes away stops waiting for the shared run of the checks; that is not a failure.</summary>
    private static async Task StopWaitingWhenAbortedAsync(RequestDelegate next, HttpContext context)
    {
        try
        {
            await next(context).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
        }
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

    /// <summary>Writes the readiness report after <see cref="HealthCheckMiddleware"/> has set the status code.</summary>
    private sealed class ReadinessWriter(TimeSpan cacheDuration, ILogger logger)
    {
        private readonly string _retryAfter = Math.Max(1, (int)Math.Ceiling(cacheDuration.TotalSeconds)).ToString(CultureInfo.InvariantCulture);

        public Task WriteAsync(HttpContext context, HealthReport report)
        {
            var response = context.Response;
            response.ContentType = "application/json";
            if (response.StatusCode == StatusCodes.Status503ServiceUnavailable)
            {
                response.Headers.RetryAfter = _retryAfter;
            }

            if (report.Status != HealthStatus.Healthy)
            {
                Log.NotReady(logger, report.Status);
            }

            // The report is written to a buffer first so HEAD can state the Content-Length GET would send.
            var body = new ArrayBufferWriter<byte>(512);
            using (var writer = new Utf8JsonWriter(body, WriterOptions))
            {
                WriteReport(writer, report);
            }

            response.ContentLength = body.WrittenCount;
            return HttpMethods.IsHead(context.Request.Method) ? Task.CompletedTask : response.Body.WriteAsync(body.WrittenMemory, context.RequestAborted).AsTask();
        }
    }

    /// <summary>The conventions of both probe endpoints, as <c>MapAiEdgeHealth()</c> returns them.</summary>
    private sealed class ProbeConventionBuilder(IEndpointConventionBuilder live, IEndpointConventionBuilder ready) : IEndpointConventionBuilder
    {
        public void Add(Action<EndpointBuilder> convention)
        {
            live.Add(convention);
            ready.Add(convention);
        }

        public void Finally(Action<EndpointBuilder> finallyConvention)
        {
            live.Finally(finallyConvention);
            ready.Finally(finallyConvention);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1701, LogLevel.Debug, "Readiness probe answered {Status}.", EventName = "NotReady")]
        public static partial void NotReady(ILogger logger, HealthStatus status);
    }
}
