using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
#region observability-1-usings
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
#endregion

namespace AiEdge.Middleware.Docs.Tests.Snippets;

/// <summary>docs/observability.md.</summary>
public static class ObservabilitySnippets
{
    public static (MeterProvider Meters, TracerProvider Traces) Subscribe()
    {
        #region observability-1
        var meters = Sdk.CreateMeterProviderBuilder()
            .AddAiEdgeInstrumentation(includeAspNetCore: true)   // AiEdge meter + Microsoft.AspNetCore.Hosting, Kestrel, Routing
            .AddOtlpExporter()                                    // OpenTelemetry.Exporter.OpenTelemetryProtocol
            .Build();
        var traces = Sdk.CreateTracerProviderBuilder()
            .AddAiEdgeInstrumentation(includeAspNetCore: true)   // AiEdge source + the Microsoft.AspNetCore server spans
            .AddOtlpExporter()
            .Build();
        // dispose both when the host stops (they flush on dispose)
        #endregion
        return (meters, traces);
    }

    public static void AccessLog(WebApplicationBuilder builder)
    {
        #region observability-2
        builder.Services.AddAiEdge(edge => edge.AddAccessLog());            // opt-in
        #endregion
    }

    public static void RecordDecision(WebApplication app)
    {
        #region observability-3
        app.Use(static (context, next) =>
        {
            context.Features.Get<AiEdgeDecisionsFeature>()?.Set("myco.quota.decision", "admitted");
            return next(context);
        });
        #endregion
    }
}
