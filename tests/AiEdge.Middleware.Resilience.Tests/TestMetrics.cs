using System.Diagnostics.Metrics;
using AiEdge.Middleware.Resilience.Internal;
using Microsoft.Extensions.DependencyInjection;

namespace AiEdge.Middleware.Resilience.Tests;

internal static class TestMetrics
{
    public static ResilienceMetrics Create()
    {
        var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        return new ResilienceMetrics(services.GetRequiredService<IMeterFactory>());
    }
}
