using AiEdge.Middleware.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace AiEdge.Middleware.Docs.Tests.Snippets;

/// <summary>docs/body-limits.md.</summary>
public static class BodyLimitsSnippets
{
    public static WebApplication Build(WebApplicationBuilder builder)
    {
        #region body-limits-1
        builder.Services.AddAiEdge(edge => edge.AddBodyLimits());          // AiEdge:BodyLimits:Default, 10m
        var app = builder.Build();
        app.UseAiEdge();

        app.MapPost("/v1/predict", Predict).WithBodyLimit("1m");
        app.MapPost("/v1/train", Train).WithBodyLimit("100m");
        app.MapPost("/v1/raw", Raw).DisableBodyLimit();                     // client_max_body_size 0
        app.MapPost("/v1/embed", [BodyLimit("512k")] (Payload p) => Embed(p));   // attribute, also on controllers
        #endregion
        return app;
    }

    private static IResult Predict() => TypedResults.Ok();

    private static IResult Train() => TypedResults.Accepted((string?)null);

    private static IResult Raw() => TypedResults.Ok();

    private static IResult Embed(Payload payload) => TypedResults.Ok(new { length = payload.Text.Length });

    /// <summary>The body of <c>POST /v1/embed</c>.</summary>
    public sealed record Payload(string Text);
}
