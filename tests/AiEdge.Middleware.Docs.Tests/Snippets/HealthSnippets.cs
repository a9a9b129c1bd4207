using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace AiEdge.Middleware.Docs.Tests.Snippets;

/// <summary>docs/health.md.</summary>
public static class HealthSnippets
{
    public static WebApplication Build(WebApplicationBuilder builder)
    {
        #region health-1
        builder.Services.AddHealthChecks().AddCheck<ModelLoadedCheck>("model");  // counts for /readyz
        builder.Services.AddAiEdge();
        var app = builder.Build();
        app.UseAiEdge();
        #endregion
        return app;
    }

    public static WebApplication OnAManagementPort(WebApplicationBuilder builder)
    {
        #region health-2
        builder.Services.AddAiEdge(edge => edge.AddHealth(static health => health.MapEndpoints = false));
        var app = builder.Build();
        app.UseAiEdge();
        app.MapAiEdgeHealth().RequireHost("*:8081");   // the probes answer on the management port only
        #endregion
        return app;
    }

    /// <summary>Healthy once the model is loaded.</summary>
    public sealed class ModelLoadedCheck : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
            => Task.FromResult(HealthCheckResult.Healthy("model loaded"));
    }
}
