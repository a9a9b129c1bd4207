using AiEdge.Middleware.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace AiEdge.Middleware.Docs.Tests.Snippets;

/// <summary>docs/security.md.</summary>
public static class SecuritySnippets
{
    public static WebApplication Build(WebApplicationBuilder builder)
    {
        #region security-1
        builder.Services.AddAiEdge(edge => edge.AddSecurityHeaders(options =>
            options.AddPolicy("docs", policy => policy
                .AddDefaultApiSecurityHeaders()
                .AddFrameOptionsSameOrigin()
                .AddContentSecurityPolicy(csp =>
                {
                    csp.AddDefaultSrc().Self();
                    csp.AddScriptSrc().Self().From("https://cdn.example.com");
                    csp.AddImgSrc().Self().Data();
                    csp.AddFrameAncestors().None();
                }))));
        var app = builder.Build();
        app.UseAiEdge();

        app.MapGet("/docs", ServeDocs).WithSecurityHeadersPolicy("docs");   // or [SecurityHeadersPolicy("docs")]
        #endregion
        return app;
    }

    private static IResult ServeDocs() => TypedResults.Content("<h1>API</h1>", "text/html");
}
