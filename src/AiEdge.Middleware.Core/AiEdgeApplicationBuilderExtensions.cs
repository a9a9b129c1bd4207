using AiEdge.Middleware;
using AiEdge.Middleware.Internal;
using Microsoft.Extensions.DependencyInjection;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Adds the AiEdge pipeline to an application.</summary>
public static class AiEdgeApplicationBuilderExtensions
{
    private const string AppliedKey = "AiEdge.Middleware.Applied";
    private const string EndpointRouteBuilderKey = "__EndpointRouteBuilder";

    /// <summary>
    /// Inserts every concern registered with <c>AddAiEdge()</c> in the fixed order of <see cref="AiEdgeStage"/>:
    /// forwarded headers, routing, security headers, CORS, health endpoints, authentication, rate limiting, body
    /// limits, caching, streaming control and circuit breakers. Map endpoints after calling it.
    /// </summary>
    /// <param name="app">The application builder.</param>
    /// <returns>The application builder.</returns>
    /// <exception cref="InvalidOperationException">AiEdge services are not registered, or the method was called twice.</exception>
    public static IApplicationBuilder UseAiEdge(this IApplicationBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);

        var stages = app.ApplicationServices.GetService<AiEdgeStageRegistry>()
            ?? throw new InvalidOperationException("AiEdge services are not registered: call builder.Services.AddAiEdge() before app.UseAiEdge().");
        if (!app.Properties.TryAdd(AppliedKey, true))
        {
            throw new InvalidOperationException("app.UseAiEdge() was called more than once.");
        }

        var routed = false;
        foreach (var stage in stages.Ordered())
        {
            if (!routed && stage.Stage > AiEdgeStage.Routing)
            {
                EnsureRouting(app);
                routed = true;
            }

            stage.Apply(app);
        }

        if (!routed)
        {
            EnsureRouting(app);
        }

        return app;
    }

    private static void EnsureRouting(IApplicationBuilder app)
    {
        if (!app.Properties.ContainsKey(EndpointRouteBuilderKey))
        {
            app.UseRouting();
        }
    }
}
