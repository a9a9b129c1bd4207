using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace AiEdge.Middleware.Docs.Tests.Snippets;

/// <summary>docs/cors.md.</summary>
public static class CorsSnippets
{
    public static void Configure(WebApplicationBuilder builder)
    {
        #region cors-1
        builder.Services.AddAiEdge(edge => edge.AddCors(cors => cors.AllowCredentials = true));
        #endregion
    }
}
