using AiEdge.Middleware.Streaming;
using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace AiEdge.Middleware.Docs.Tests.Snippets;

/// <summary>docs/streaming.md.</summary>
public static class StreamingSnippets
{
    public static WebApplication Build(WebApplicationBuilder builder)
    {
        #region streaming-1
        builder.Services.AddAiEdge(edge => edge.AddStreaming());
        var app = builder.Build();
        app.UseAiEdge();                       // the streaming stage runs at AiEdgeStage.Streaming

        app.MapPost("/v1/chat/completions", (ChatRequest request, HttpContext context) =>
                EventStreamResults.Data(Generate(request, context.RequestAborted), completion: "[DONE]"))
           .WithStreaming();                   // optional: also marks the endpoint (see below)
        #endregion
        return app;
    }

    public static void Writing(WebApplication app)
    {
        #region streaming-2
        // From an IAsyncEnumerable<T>: each item one event, JSON data (strings as text), then "data: [DONE]".
        app.MapPost("/v1/chat/completions", (HttpContext context) =>
            EventStreamResults.Data(ProduceChunks(context.RequestAborted), completion: "[DONE]"));

        // With id, event and retry fields: SseItem<T>, the item type of .NET's TypedResults.ServerSentEvents.
        app.MapGet("/jobs/{id}/events", (string id, HttpContext context) =>
            EventStreamResults.Items(Progress(id, context.RequestAborted)));   // IAsyncEnumerable<SseItem<JobProgress>>

        // Imperatively.
        app.MapGet("/feed", async (HttpContext context) =>
        {
            var events = await EventStreamWriter.StartAsync(context.Response, cancellationToken: context.RequestAborted);
            await events.WriteAsync(new { text = "hello" }, eventType: "token", id: "1", retry: TimeSpan.FromSeconds(3));
            await events.WriteItemAsync(new SseItem<string>("plain text", "note"));
            await events.WriteCommentAsync("anything");
        });
        #endregion
    }

    public static async Task<IResult> Relay(HttpContext context, HttpClient http, HttpRequestMessage request)
    {
        #region streaming-3
        var upstream = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, context.RequestAborted);
        return EventStreamResults.Relay(upstream);                 // an IResult; disposes upstream
        // or: await context.Response.RelayEventStreamAsync(upstream, context.RequestAborted);
        #endregion
    }

    private static async IAsyncEnumerable<string> Generate(ChatRequest request, [EnumeratorCancellation] CancellationToken aborted)
    {
        foreach (var token in request.Prompt.Split(' '))
        {
            aborted.ThrowIfCancellationRequested();
            await Task.Yield();
            yield return token;
        }
    }

    private static IAsyncEnumerable<string> ProduceChunks(CancellationToken aborted) => Generate(new ChatRequest("Hello world"), aborted);

    private static async IAsyncEnumerable<SseItem<JobProgress>> Progress(string id, [EnumeratorCancellation] CancellationToken aborted)
    {
        for (var percent = 0; percent <= 100; percent += 50)
        {
            aborted.ThrowIfCancellationRequested();
            await Task.Yield();
            yield return new SseItem<JobProgress>(new JobProgress(id, percent), "progress") { EventId = percent.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        }
    }

    /// <summary>The body of a chat request.</summary>
    public sealed record ChatRequest(string Prompt);

    /// <summary>A training job's progress.</summary>
    public sealed record JobProgress(string Id, int Percent);
}
