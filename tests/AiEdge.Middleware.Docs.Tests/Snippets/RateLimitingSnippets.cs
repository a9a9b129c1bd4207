using AiEdge.Middleware.RateLimiting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;

namespace AiEdge.Middleware.Docs.Tests.Snippets;

/// <summary>docs/rate-limiting.md.</summary>
public static class RateLimitingSnippets
{
    public static WebApplication Build(WebApplicationBuilder builder)
    {
        #region rate-limiting-1
        builder.Services.AddAiEdge(edge => edge.AddRateLimiting());           // tiers from AiEdge:RateLimiting
        var app = builder.Build();
        app.UseAiEdge();
        app.MapPost("/v1/predict", Predict).WithRateLimitTier("predict");
        app.MapPost("/v1/chat/completions", Chat).WithRateLimitTier("perSecond").WithRateLimitTier("perDay");
        #endregion
        return app;
    }

    private static IResult Predict() => TypedResults.Ok(new { label = "positive" });

    private static IResult Chat() => TypedResults.Ok(new { text = "hello" });

    /// <summary>An endpoint that counted its tokens itself and writes no usage in its answer.</summary>
    public static void ReportUsage(HttpContext context)
    {
        #region rate-limiting-3
        if (context.Features.Get<ITokenUsageFeature>() is { } usage)
        {
            usage.ReportUsage(promptTokens: 120, completionTokens: 48);   // wins over any usage in the response
        }
        #endregion
    }

    #region rate-limiting-2
    [RateLimitTier("train")]                                                 // MVC: the same metadata
    public sealed class TrainController : ControllerBase
    {
        [HttpPost("/v1/train")]
        public IActionResult Train() => Accepted();
    }
    #endregion
}
