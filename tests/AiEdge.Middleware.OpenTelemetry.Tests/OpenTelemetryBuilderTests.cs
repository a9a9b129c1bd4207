using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace AiEdge.Middleware.OpenTelemetry.Tests;

/// <summary>The SDK providers built with AddAiEdgeInstrumentation() export what AiEdge reports.</summary>
public sealed class OpenTelemetryBuilderTests
{
    [Fact]
    public void MeterProvider_ExportsAiEdgeInstruments()
    {
        var exporter = new CollectingExporter<Metric>(static m => m.Name);
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        using (var provider = Sdk.CreateMeterProviderBuilder()
            .AddAiEdgeInstrumentation()
            .AddReader(new BaseExportingMetricReader(exporter))
            .Build())
        {
            // The suite's meter, as every AiEdge package creates it.
            var meter = services.GetRequiredService<IMeterFactory>().Create(AiEdgeDiagnostics.MeterName);
            meter.CreateCounter<long>("aiedge.ratelimit.requests").Add(1);
            meter.CreateCounter<long>("aiedge.cache.requests").Add(1);
            meter.CreateHistogram<double>("aiedge.backend.duration").Record(0.1);
            provider.ForceFlush();
        }

        Assert.Contains("aiedge.ratelimit.requests", exporter.Names);
        Assert.Contains("aiedge.cache.requests", exporter.Names);
        Assert.Contains("aiedge.backend.duration", exporter.Names);
    }

    [Fact]
    public void MeterProvider_WithoutAiEdgeInstrumentation_ExportsNothingOfIt()
    {
        var exporter = new CollectingExporter<Metric>(static m => m.Name);
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        using (var provider = Sdk.CreateMeterProviderBuilder().AddReader(new BaseExportingMetricReader(exporter)).Build())
        {
            services.GetRequiredService<IMeterFactory>().Create(AiEdgeDiagnostics.MeterName).CreateCounter<long>("aiedge.cache.requests").Add(1);
            provider.ForceFlush();
        }

        Assert.DoesNotContain("aiedge.cache.requests", exporter.Names);
    }

    [Fact]
    public void TracerProvider_ExportsAiEdgeSpans()
    {
        var exporter = new CollectingExporter<Activity>(static a => a.DisplayName);
        var name = "redis " + Guid.NewGuid().ToString("n");
        using (var provider = Sdk.CreateTracerProviderBuilder()
            .AddAiEdgeInstrumentation(includeAspNetCore: true)
            .AddProcessor(new SimpleActivityExportProcessor(exporter))
            .Build())
        {
            using var source = new ActivitySource(AiEdgeDiagnostics.ActivitySourceName);
            using (var activity = source.StartActivity(name, ActivityKind.Client))
            {
                Assert.NotNull(activity);
            }

            provider.ForceFlush();
        }

        Assert.Contains(name, exporter.Names);
    }

    [Fact]
    public void AspNetCoreNames_AreTheFrameworkOnes()
    {
        Assert.Contains("Microsoft.AspNetCore.Hosting", AiEdgeOpenTelemetry.AspNetCoreMeterNames);
        Assert.Equal("Microsoft.AspNetCore", AiEdgeOpenTelemetry.AspNetCoreActivitySourceName);
    }

    private sealed class CollectingExporter<T>(Func<T, string> name) : BaseExporter<T>
        where T : class
    {
        private readonly List<string> _names = [];

        public IReadOnlyList<string> Names
        {
            get
            {
                lock (_names)
                {
                    return [.. _names];
                }
            }
        }

        public override ExportResult Export(in Batch<T> batch)
        {
            lock (_names)
            {
                foreach (var item in batch)
                {
                    _names.Add(name(item));
                }
            }

            return ExportResult.Success;
        }
    }
}
