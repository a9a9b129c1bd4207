using AiEdge.Middleware.OpenTelemetry;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace AiEdge.Samples.ModelApi;

/// <summary>
/// The sample's telemetry, through the OpenTelemetry SDK's hosting integration: AiEdge's meter and activity source
/// plus ASP.NET Core's instrumentation, exported
/// <list type="bullet">
/// <item>over OTLP when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set, honouring the standard variables
/// (<c>OTEL_EXPORTER_OTLP_PROTOCOL</c>, <c>OTEL_EXPORTER_OTLP_HEADERS</c>, <c>OTEL_METRIC_EXPORT_INTERVAL</c>,
/// <c>OTEL_SERVICE_NAME</c>, ...);</item>
/// <item>in the Prometheus text format on <c>GET /metrics</c> when <c>Sample:PrometheusEndpoint</c> is
/// <see langword="true"/>, for a Prometheus server to scrape.</item>
/// </list>
/// With neither, nothing is registered and no measurement is aggregated.
/// </summary>
internal static class SampleTelemetry
{
    /// <summary>The path of the Prometheus scrape endpoint.</summary>
    public const string MetricsPath = "/metrics";

    private const string OtlpEndpointVariable = "OTEL_EXPORTER_OTLP_ENDPOINT";

    public static WebApplicationBuilder AddSampleTelemetry(this WebApplicationBuilder builder)
    {
        var otlp = !string.IsNullOrWhiteSpace(builder.Configuration[OtlpEndpointVariable]);
        var prometheus = builder.Configuration.GetValue<bool>("Sample:PrometheusEndpoint");
        if (!otlp && !prometheus)
        {
            return builder;
        }

        var telemetry = builder.Services.AddOpenTelemetry();
        if (string.IsNullOrWhiteSpace(builder.Configuration["OTEL_SERVICE_NAME"]))
        {
            telemetry.ConfigureResource(resource => resource.AddService(builder.Environment.ApplicationName));
        }

        telemetry
            .WithMetrics(metrics =>
            {
                metrics.AddAiEdgeInstrumentation().AddAspNetCoreInstrumentation();
                if (prometheus)
                {
                    // Every scrape reads the current values: the exporter's own response cache is off.
                    metrics.AddPrometheusExporter(options => options.ScrapeResponseCacheDurationMilliseconds = 0);
                }
            })
            .WithTracing(tracing => tracing.AddAiEdgeInstrumentation().AddAspNetCoreInstrumentation());

        if (otlp)
        {
            // Metrics and traces over OTLP, configured by the OTEL_EXPORTER_OTLP_* variables.
            telemetry.UseOtlpExporter();
        }

        return builder;
    }

    /// <summary>
    /// Maps <c>GET /metrics</c> when <c>Sample:PrometheusEndpoint</c> is <see langword="true"/>: like the health probes,
    /// anonymous, outside every rate-limit tier and never cached. When false the path is not mapped (404).
    /// </summary>
    public static WebApplication MapSampleMetrics(this WebApplication app)
    {
        if (!app.Configuration.GetValue<bool>("Sample:PrometheusEndpoint"))
        {
            return app;
        }

        app.MapPrometheusScrapingEndpoint(MetricsPath)
            .AllowAnonymous()
            .DisableRateLimiting()
            .DisableRateLimitTiers()
            .CacheOutput(static policy => policy.NoCache());
        return app;
    }
}
