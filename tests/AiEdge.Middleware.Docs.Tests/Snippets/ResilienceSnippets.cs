using AiEdge.Middleware.Resilience;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;

namespace AiEdge.Middleware.Docs.Tests.Snippets;

/// <summary>docs/resilience.md.</summary>
public static class ResilienceSnippets
{
    public static WebApplication Backend(WebApplicationBuilder builder)
    {
        #region resilience-1
        builder.Services.AddAiEdge(edge => edge.AddModelBackendClient("vllm"));   // also adds AddResilience()
        var app = builder.Build();
        app.UseAiEdge();

        app.MapPost("/v1/chat/completions", (HttpContext http, ModelBackendClient backend) =>
            backend.ForwardAsync(http, HttpMethod.Post, "chat/completions", new StreamContent(http.Request.Body)));
        #endregion
        return app;
    }

    public static void InProcess(WebApplication app)
    {
        #region resilience-2
        app.MapPost("/v1/embed", Embed).WithCircuitBreaker("embedder");
        #endregion
    }

    private static IResult Embed() => TypedResults.Ok(new[] { 0.1, 0.2 });

    #region resilience-3
    public sealed class EmbeddingsController : ControllerBase
    {
        [HttpPost("/v1/embed")]
        [CircuitBreaker("embedder")]   // MVC: the attribute is the same metadata
        public IActionResult Embed() => Ok(new[] { 0.1, 0.2 });
    }
    #endregion
}
