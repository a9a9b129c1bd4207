using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace AiEdge.Middleware.Docs.Tests.Snippets;

/// <summary>docs/caching.md.</summary>
public static class CachingSnippets
{
    public static WebApplication Build(WebApplicationBuilder builder)
    {
        #region caching-1
        builder.Services.AddAiEdge(edge => edge.AddPredictionCache());
        var app = builder.Build();
        app.UseAiEdge();
        app.MapPost("/v1/predict", Predict).WithPredictionCache();          // or [PredictionCache] on an MVC action
        app.MapPost("/v1/embed", Embed).WithPredictionCache("embeddings");  // a named policy: AiEdge:Caching:Policies:embeddings
        #endregion
        return app;
    }

    private static IResult Predict() => TypedResults.Ok(new { label = "positive" });

    private static IResult Embed() => TypedResults.Ok(new[] { 0.1, 0.2 });
}
