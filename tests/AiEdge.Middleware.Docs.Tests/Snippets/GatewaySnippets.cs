using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace AiEdge.Middleware.Docs.Tests.Snippets;

/// <summary>docs/gateway.md.</summary>
public static class GatewaySnippets
{
    public static WebApplication Gateway(WebApplicationBuilder builder)
    {
        #region gateway-1
        builder.Services.AddAiEdge(edge => edge.AddEdgeAuthentication().AddRateLimiting().AddStreaming());
        builder.Services.AddReverseProxy()
            .LoadFromConfig(builder.Configuration.GetSection("ReverseProxy"))
            .AddAiEdge();

        var app = builder.Build();
        app.UseAiEdge();                  // forwarded headers, security headers, health, auth, limits, ... then routing
        app.MapAiEdgeReverseProxy();      // YARP's routes, with AiEdge's proxy step and route metadata
        #endregion
        return app;
    }
}
