using System.Collections.Concurrent;
using AiEdge.Middleware.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace AiEdge.Samples.Gateway.Tests;

/// <summary>
/// An OpenAI-compatible model server (vLLM-style) on Kestrel over loopback. It records every request it sees; with
/// <see cref="Failing"/> it answers 500 to everything, its health check included. Its streamed chat completion
/// sends one event, then waits for <see cref="ReleaseStream"/> before sending the rest, so a test can prove the
/// first event crossed the gateway before the backend produced the second.
/// </summary>
public sealed class FakeVllm : IAsyncDisposable
{
    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TestApp? _app;

    private FakeVllm(string name, bool failing)
    {
        Name = name;
        Failing = failing;
    }

    /// <summary>Gets the replica's name, echoed in its answers.</summary>
    public string Name { get; }

    /// <summary>Gets whether the replica answers 500 to everything.</summary>
    public bool Failing { get; }

    /// <summary>Gets the requests seen (method, path and query, forwarded headers), health probes excluded.</summary>
    public ConcurrentQueue<SeenRequest> Requests { get; } = new();

    /// <summary>Gets the replica's base URL.</summary>
    public Uri BaseAddress => _app!.BaseAddress;

    /// <summary>Lets a held stream continue.</summary>
    public void ReleaseStream() => _release.TrySetResult();

    /// <summary>Starts a replica.</summary>
    public static async Task<FakeVllm> StartAsync(string name, bool failing = false)
    {
        var fake = new FakeVllm(name, failing);
        fake._app = await TestApp.StartKestrelAsync(_ => { }, app =>
        {
            app.MapGet("/health", () => fake.Failing ? Results.StatusCode(500) : Results.Ok());
            app.Map("/{**path}", fake.HandleAsync);
        });
        return fake;
    }

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        var body = await new StreamReader(request.Body).ReadToEndAsync(context.RequestAborted);
        Requests.Enqueue(new SeenRequest(
            request.Method,
            request.Path + request.QueryString,
            body,
            request.Headers["X-Forwarded-For"].ToString(),
            request.Headers["X-Real-IP"].ToString(),
            request.Headers.Authorization.ToString() + request.Headers["X-API-Key"].ToString(),
            request.Headers["X-Trace-Me"].ToString()));
        if (Failing)
        {
            context.Response.StatusCode = 500;
            await context.Response.WriteAsync("{\"error\":\"gpu fault\"}", context.RequestAborted);
            return;
        }

        if (request.Path == "/v1/chat/completions" && body.Contains("\"stream\":true", StringComparison.Ordinal))
        {
            context.Response.ContentType = "text/event-stream";
            await context.Response.WriteAsync("data: {\"object\":\"chat.completion.chunk\",\"choices\":[{\"delta\":{\"content\":\"Hel\"}}]}\n\n", context.RequestAborted);
            await context.Response.Body.FlushAsync(context.RequestAborted);
            await _release.Task.WaitAsync(TimeSpan.FromSeconds(30), context.RequestAborted);
            await context.Response.WriteAsync("data: {\"object\":\"chat.completion.chunk\",\"choices\":[{\"delta\":{\"content\":\"lo\"}}]}\n\n", context.RequestAborted);
            if (body.Contains("\"include_usage\":true", StringComparison.Ordinal))
            {
                // As vLLM: the usage chunk only when stream_options.include_usage asks for it.
                await context.Response.WriteAsync("data: {\"object\":\"chat.completion.chunk\",\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":2,\"total_tokens\":5}}\n\n", context.RequestAborted);
            }

            await context.Response.WriteAsync("data: [DONE]\n\n", context.RequestAborted);
            return;
        }

        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(
            "{\"object\":\"chat.completion\",\"model\":\"" + Name + "\",\"choices\":[{\"message\":{\"role\":\"assistant\",\"content\":\"hi\"}}],"
            + "\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":1,\"total_tokens\":4}}",
            context.RequestAborted);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        ReleaseStream();
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }
}

/// <summary>A Qdrant-like vector database: <c>/healthz</c>, and an echo of every other request.</summary>
public sealed class FakeQdrant : IAsyncDisposable
{
    private TestApp? _app;

    /// <summary>Gets the requests seen, health probes excluded.</summary>
    public ConcurrentQueue<SeenRequest> Requests { get; } = new();

    /// <summary>Gets the base URL.</summary>
    public Uri BaseAddress => _app!.BaseAddress;

    /// <summary>Starts the fake.</summary>
    public static async Task<FakeQdrant> StartAsync()
    {
        var fake = new FakeQdrant();
        fake._app = await TestApp.StartKestrelAsync(_ => { }, app =>
        {
            app.MapGet("/healthz", () => Results.Text("healthz check passed"));
            app.Map("/{**path}", async (HttpContext context) =>
            {
                var request = context.Request;
                var body = await new StreamReader(request.Body).ReadToEndAsync(context.RequestAborted);
                fake.Requests.Enqueue(new SeenRequest(request.Method, request.Path + request.QueryString, body,
                    request.Headers["X-Forwarded-For"].ToString(), request.Headers["X-Real-IP"].ToString(),
                    request.Headers.Authorization.ToString() + request.Headers["X-API-Key"].ToString(), string.Empty));
                return Results.Json(new { result = new { collections = new[] { new { name = "docs" } } }, status = "ok" });
            });
        });
        return fake;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }
}

/// <summary>What a fake backend saw of one request.</summary>
public sealed record SeenRequest(string Method, string PathAndQuery, string Body, string ForwardedFor, string RealIp, string Credentials, string CustomHeader);
