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

    /// <summary>The quick start's Program.cs above <c>app.Run()</c> (its settings come from appsettings.json).</summary>
    public static WebApplication QuickStart(string[] args)
    {
        #region getting-started-quick-start
        var builder = WebApplication.CreateBuilder(args);
        builder.Services.AddAiEdge(edge => edge
            .AddRateLimiting()          // tiers from AiEdge:RateLimiting:Tiers
            .AddPredictionCache());     // caches POST answers keyed on the canonical request

        var app = builder.Build();
        app.UseAiEdge();                // before mapping endpoints

        app.MapGet("/", () => "Hello World!");
        app.MapPost("/v1/predict", (Dictionary<string, string> input) => new { label = input.GetValueOrDefault("text", "").Length % 2 == 0 ? "even" : "odd" })
            .WithRateLimitTier("predict")
            .WithPredictionCache();
        #endregion
        return app;
    }
}
