using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace AiEdge.Middleware.Docs.Tests.Snippets;

/// <summary>docs/getting-started.md.</summary>
public static class GettingStartedSnippets
{
    public static WebApplication Build(WebApplicationBuilder builder)
    {
        #region getting-started-1
        builder.Services.AddAiEdge();   // safe defaults
        var app = builder.Build();
        app.UseAiEdge();                // before mapping endpoints
        #endregion
        return app;
    }
}
