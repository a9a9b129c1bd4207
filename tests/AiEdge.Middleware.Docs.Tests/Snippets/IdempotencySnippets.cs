using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace AiEdge.Middleware.Docs.Tests.Snippets;

/// <summary>docs/idempotency.md.</summary>
public static class IdempotencySnippets
{
    public static WebApplication Build(WebApplicationBuilder builder)
    {
        #region idempotency-1
        builder.Services.AddAiEdge(edge => edge.AddIdempotency());
        var app = builder.Build();
        app.UseAiEdge();
        app.MapPost("/v1/train", Train).WithIdempotency();                 // or [Idempotent] on an MVC action
        app.MapPost("/v1/payments", Pay).WithIdempotency(required: true);  // 400 without a key
        #endregion
        return app;
    }

    private static IResult Train() => TypedResults.Accepted((string?)null);

    private static IResult Pay() => TypedResults.Ok();
}
