using System.Net.WebSockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace AiEdge.Middleware.Docs.Tests.Snippets;

/// <summary>
/// docs/migrating-from-nginx.md, "An NGINX reverse proxy in front of an AI API": the Program.cs that replaces it.
/// </summary>
public static class ApiProxyMigration
{
    public static WebApplication Build(WebApplicationBuilder builder)
    {
        #region api-proxy-program
        builder.Services.AddAiEdge(edge => edge   // forwarded headers, security headers, /healthz, /readyz by default
            .AddRateLimiting()                    // limit_req_zone ... zone=api / zone=ai; limit_req ... nodelay
            .AddCors()                            // add_header Access-Control-* always; OPTIONS -> 204
            .AddBodyLimits()                      // client_max_body_size 10m (100m on uploads)
            .AddStreaming()                       // proxy_buffering off; proxy_cache off; WebSocket timeouts
            .AddAccessLog());                     // log_format api ... $request_time

        var app = builder.Build();
        app.UseAiEdge();

        // location /api/ { limit_req zone=api burst=20 nodelay; }
        app.MapGet("/api/items", () => new[] { "a", "b" }).WithRateLimitTier("api");

        // location /api/generate/ { limit_req zone=ai burst=5 nodelay; }
        app.MapPost("/api/generate", (GenerateRequest request) => new { text = "generated for " + request.Prompt })
            .WithRateLimitTier("ai");

        // location /api/stream/ { proxy_buffering off; proxy_cache off; }
        app.MapPost("/api/stream", (CancellationToken aborted) => TypedResults.ServerSentEvents(Tokens(aborted)))
            .WithRateLimitTier("ai")
            .WithStreaming();

        // location /api/upload/ { client_max_body_size 100m; proxy_read_timeout 300s; }
        app.MapPost("/api/upload", async (HttpRequest request) =>
            {
                var bytes = 0L;
                var buffer = new byte[81920];
                int read;
                while ((read = await request.Body.ReadAsync(buffer)) > 0)
                {
                    bytes += read;
                }

                return Results.Ok(new { bytes });
            })
            .WithRateLimitTier("api")
            .WithBodyLimit("100m");

        // location /ws/ { proxy_read_timeout 86400s; }: keep-alive and idle timeout from AiEdge:Streaming:WebSockets
        app.Map("/ws", async (HttpContext context) =>
        {
            if (!context.WebSockets.IsWebSocketRequest)
            {
                return Results.BadRequest();
            }

            using var socket = await context.WebSockets.AcceptWebSocketAsync();
            var buffer = new byte[4096];
            var message = await socket.ReceiveAsync(buffer, context.RequestAborted);
            while (!message.CloseStatus.HasValue)
            {
                await socket.SendAsync(buffer.AsMemory(0, message.Count), message.MessageType, message.EndOfMessage, context.RequestAborted);
                message = await socket.ReceiveAsync(buffer, context.RequestAborted);
            }

            await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, context.RequestAborted);
            return Results.Empty;
        });
        #endregion

        return app;
    }

    private static async IAsyncEnumerable<string> Tokens([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken aborted)
    {
        foreach (var token in new[] { "Hello", ",", " world" })
        {
            aborted.ThrowIfCancellationRequested();
            await Task.Yield();
            yield return token;
        }
    }

    /// <summary>The body of <c>POST /api/generate</c>.</summary>
    public sealed record GenerateRequest(string Prompt);
}
