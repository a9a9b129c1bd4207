using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace AiEdge.Middleware.Docs.Tests.Snippets;

/// <summary>README.md, "Quick start".</summary>
public static class QuickStart
{
    public static WebApplication Build(WebApplicationBuilder builder)
    {
        #region quick-start
        builder.Services.AddAiEdge(edge => edge
            .AddRateLimiting()          // tiers from AiEdge:RateLimiting:Tiers, NGINX limit_req semantics
            .AddPredictionCache());     // idempotent POST caching keyed on the canonical request

        var app = builder.Build();
        app.UseAiEdge();                // forwarded headers, security headers, CORS, health, auth, limits, cache, streaming, breakers

        app.MapPost("/v1/predict", Predict).WithRateLimitTier("predict").WithPredictionCache();
        #endregion
        return app;
    }

    private static IResult Predict(PredictRequest request) => TypedResults.Ok(new { label = request.Input.Length % 2 == 0 ? "even" : "odd" });

    /// <summary>The body of a prediction.</summary>
    public sealed record PredictRequest(string Input);
}
