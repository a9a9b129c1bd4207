using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace AiEdge.Middleware.Docs.Tests.Snippets;

/// <summary>docs/forwarded-headers.md.</summary>
public static class ForwardedHeadersSnippets
{
    public static WebApplication Build(WebApplicationBuilder builder)
    {
        #region forwarded-headers-1
        builder.Services.AddAiEdge();   // on by default: trusts loopback proxies only
        // or, with the single package:
        builder.Services.AddAiEdgeCore(edge => edge.AddForwardedHeaders(o => o.TrustedProxies = ["10.0.0.0/8", "fd00::/8"]));
        var app = builder.Build();
        app.UseAiEdge();                // runs it at AiEdgeStage.ForwardedHeaders, before routing
        #endregion
        return app;
    }
}
