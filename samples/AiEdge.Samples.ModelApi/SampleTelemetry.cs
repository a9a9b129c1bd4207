using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace AiEdge.Samples.ModelApi;

/// <summary>
/// Exports AiEdge and ASP.NET Core metrics and traces over OTLP when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set.
/// The exporter honours the standard variables (<c>OTEL_EXPORTER_OTLP_PROTOCOL</c>, <c>OTEL_EXPORTER_OTLP_HEADERS</c>,
/// <c>OTEL_METRIC_EXPORT_INTERVAL</c>, <c>OTEL_SERVICE_NAME</c>, ...). Without OpenTelemetry.Extensions.Hosting the
/// providers are built with the SDK directly and disposed (flushed) when the host stops.
/// </summary>
internal static class SampleTelemetry
{
    public static WebApplicationBuilder AddSampleTelemetry(this WebApplicationBuilder builder)
    {
        if (string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable("OTEL_EXPORTER_OTLP_ENDPOINT")))
        {
            return builder;
        }

        var resource = ResourceBuilder.CreateDefault();
        if (string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable("OTEL_SERVICE_NAME")))
        {
            resource.AddService(builder.Environment.ApplicationName);
        }

        var meters = Sdk.CreateMeterProviderBuilder()
            .SetResourceBuilder(resource)
            .AddAiEdgeInstrumentation(includeAspNetCore: true)
            .AddOtlpExporter()
            .Build();
        var traces = Sdk.CreateTracerProviderBuilder()
            .SetResourceBuilder(resource)
            .AddAiEdgeInstrumentation(includeAspNetCore: true)
            .AddOtlpExporter()
            .Build();
        builder.Services.AddHostedService(_ => new ProviderLifetime(meters, traces));
        return builder;
    }

    private sealed class ProviderLifetime(MeterProvider meters, TracerProvider traces) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken)
        {
            meters.Dispose();
            traces.Dispose();
            return Task.CompletedTask;
        }
    }
}
