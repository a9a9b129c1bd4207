using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace AiEdge.Middleware.Testing;

/// <summary>
/// A misbehaving backend on Kestrel over loopback. Every request asking for <c>"stream":true</c> gets an event
/// stream of <see cref="EventsBeforeAbort"/> events after which the connection is aborted (the backend dies
/// mid-stream); any other request gets a JSON answer carrying headers a proxy must not relay: <c>Set-Cookie</c>,
/// <c>Connection</c> naming <c>X-Hop-Secret</c>, <c>X-Hop-Secret</c>, <c>Keep-Alive</c>, <c>X-Internal-Trace</c>,
/// <c>X-Powered-By</c>, plus the end-to-end <c>X-Request-Id</c>, which must pass.
/// </summary>
public sealed class BrokenBackend : IAsyncDisposable
{
    private readonly TestApp _app;

    private BrokenBackend(TestApp app) => _app = app;

    /// <summary>Gets the backend's base URL.</summary>
    public Uri BaseAddress => _app.BaseAddress;

    /// <summary>Gets or sets how many complete events precede the abort.</summary>
    public int EventsBeforeAbort { get; set; } = 2;

    /// <summary>Gets or sets a fragment written after the complete events, before the abort (a break inside an event).</summary>
    public string? PartialEvent { get; set; }

    /// <summary>Gets or sets whether a non-streamed answer is cut short too (half a JSON body, then the abort).</summary>
    public bool AbortJson { get; set; }

    /// <summary>Starts the backend on a free loopback port.</summary>
    public static async Task<BrokenBackend> StartAsync()
    {
        BrokenBackend? backend = null;
        var app = await TestApp.StartKestrelAsync(_ => { }, web =>
        {
            web.MapGet("/health", () => Results.Ok());
            web.Map("/{**path}", (HttpContext context) => backend!.AnswerAsync(context));
        });
        backend = new BrokenBackend(app);
        return backend;
    }

    /// <summary>The event the backend sends as number <paramref name="index"/>.</summary>
    public static string Event(int index)
        => "data: {\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"e" + index + "\"}}]}\n\n";

    private async Task AnswerAsync(HttpContext context)
    {
        var body = await new StreamReader(context.Request.Body).ReadToEndAsync(context.RequestAborted);
        var response = context.Response;
        response.Headers.SetCookie = "session=backend-secret; Path=/";
        response.Headers.Connection = "X-Hop-Secret";
        response.Headers["X-Hop-Secret"] = "hop";
        response.Headers["Keep-Alive"] = "timeout=5";
        response.Headers["X-Internal-Trace"] = "gpu-7";
        response.Headers["X-Powered-By"] = "vllm";
        response.Headers["X-Request-Id"] = "req-1";
        if (body.Contains("\"stream\":true", StringComparison.Ordinal))
        {
            response.ContentType = "text/event-stream";
            await response.StartAsync(context.RequestAborted);
            for (var i = 0; i < EventsBeforeAbort; i++)
            {
                await response.WriteAsync(Event(i), context.RequestAborted);
                await response.Body.FlushAsync(context.RequestAborted);
            }

            if (PartialEvent is not null)
            {
                await response.WriteAsync(PartialEvent, context.RequestAborted);
                await response.Body.FlushAsync(context.RequestAborted);
            }

            // Give the relay time to pass the events on, then die without ending the chunked body.
            await Task.Yield();
            context.Abort();
            return;
        }

        response.ContentType = "application/json";
        if (AbortJson)
        {
            await response.WriteAsync("{\"object\":\"chat.completion\",\"choi", context.RequestAborted);
            await response.Body.FlushAsync(context.RequestAborted);
            context.Abort();
            return;
        }

        await response.WriteAsync("{\"object\":\"chat.completion\",\"choices\":[{\"message\":{\"role\":\"assistant\",\"content\":\"hi\"}}],\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":1,\"total_tokens\":2}}", context.RequestAborted);
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => _app.DisposeAsync();
}
