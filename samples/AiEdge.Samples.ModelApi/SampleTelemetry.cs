using AiEdge.Middleware.OpenTelemetry;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace AiEdge.Samples.ModelApi;

/// <summary>
/// The sample's telemetry, through the OpenTelemetry SDK's hosting integration: AiEdge's meter and activity source
/// plus ASP.NET Core's instrumentation.
/// <list type="bullet">
/// <item>Metrics are collected in-process (unless <c>Sample:InProcessMetrics</c> is <see langword="false"/>), so that
/// <c>GET /metrics</c> can serve them in the Prometheus text format when <c>Sample:PrometheusEndpoint</c> is
/// <see langword="true"/>. That setting is read when the endpoints are mapped, after every configuration source
/// (including a test host's) has been applied.</item>
/// <item>Metrics and traces go over OTLP when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set, honouring the standard
/// variables (<c>OTEL_EXPORTER_OTLP_PROTOCOL</c>, <c>OTEL_EXPORTER_OTLP_HEADERS</c>, <c>OTEL_METRIC_EXPORT_INTERVAL</c>,
/// <c>OTEL_SERVICE_NAME</c>, ...). Without it no tracer provider is registered, so requests start no sampled spans.</item>
/// </list>
/// </summary>
internal static class SampleTelemetry
{
    /// <summary>The path of the Prometheus scrape endpoint.</summary>
    public const string MetricsPath = "/metrics";

    private const string PrometheusEndpointKey = "Sample:PrometheusEndpoint";
    private const string InProcessMetricsKey = "Sample:InProcessMetrics";

    public static WebApplicationBuilder AddSampleTelemetry(this WebApplicationBuilder builder)
    {
        var telemetry = builder.Services.AddOpenTelemetry();
        if (string.IsNullOrWhiteSpace(builder.Configuration["OTEL_SERVICE_NAME"]))
        {
            telemetry.ConfigureResource(resource => resource.AddService(builder.Environment.ApplicationName));
        }

        // Sample:InProcessMetrics=false (read here, so from a source present before the host is built: an environment
        // variable or the command line) collects no metrics: the load benchmark sets it, as no peer it is compared with
        // collects any.
        if (builder.Configuration.GetValue(InProcessMetricsKey, true))
        {
            AddMetrics(telemetry);
        }

        // The OTEL_* variables are environment variables, present before the host is built.
        if (!string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            telemetry
                .WithTracing(static tracing => tracing.AddAiEdgeInstrumentation().AddAspNetCoreInstrumentation())
                .UseOtlpExporter();
        }

        return builder;
    }

    private static void AddMetrics(OpenTelemetryBuilder telemetry)
    {
        #region prometheus-exporter
        // Every scrape reads the current values: the Prometheus exporter's own response cache is off.
        telemetry.WithMetrics(static metrics => metrics
            .AddAiEdgeInstrumentation()
            .AddAspNetCoreInstrumentation()
            .AddPrometheusExporter(static options => options.ScrapeResponseCacheDurationMilliseconds = 0));
        #endregion
    }

    /// <summary>
    /// Maps <c>GET /metrics</c> when <c>Sample:PrometheusEndpoint</c> is <see langword="true"/>: like the health probes,
    /// anonymous, outside every rate-limit tier and never cached. When false the path is not mapped (404).
    /// </summary>
    public static WebApplication MapSampleMetrics(this WebApplication app)
    {
        if (!app.Configuration.GetValue<bool>(PrometheusEndpointKey))
        {
            return app;
        }

        #region prometheus-endpoint
        // Like the health probes: anonymous, outside ASP.NET Core's and AiEdge's rate limiting, never cached.
        app.MapPrometheusScrapingEndpoint(MetricsPath)
            .AllowAnonymous()
            .DisableRateLimiting()
            .DisableRateLimitTiers()
            .CacheOutput(static policy => policy.NoCache());
        #endregion
        return app;
    }
}
