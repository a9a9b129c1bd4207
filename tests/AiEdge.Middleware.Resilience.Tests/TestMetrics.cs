using System.Diagnostics.Metrics;
using AiEdge.Middleware.Internal;
using Microsoft.Extensions.DependencyInjection;

namespace AiEdge.Middleware.Resilience.Tests;

internal static class TestMetrics
{
    public static AiEdgeMetrics Create()
    {
        var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        return new AiEdgeMetrics(services.GetRequiredService<IMeterFactory>());
    }
}
