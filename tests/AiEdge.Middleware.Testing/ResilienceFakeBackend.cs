using System.Text;
using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace AiEdge.Middleware.Testing;

/// <summary>How a <see cref="FakeModelBackend"/> answers chat completions.</summary>
public enum FakeBackendMode
{
    /// <summary>A <c>chat.completion</c> (or, for <c>"stream": true</c>, an event stream).</summary>
    Ok,

    /// <summary>A 500 with a plain-text body.</summary>
    Error,

    /// <summary>Never answers until the request is aborted.</summary>
    Hang,

    /// <summary>A 400 with an OpenAI-style JSON error body (the caller's fault, not the backend's).</summary>
    BadRequest,
}

/// <summary>
/// A fake OpenAI-compatible backend on Kestrel over loopback, for resilience tests: it answers, errors or hangs
/// on demand, streams events one by one behind a gate the test opens, counts calls and serves <c>/health</c>.
/// </summary>
public sealed class FakeModelBackend : IAsyncDisposable
{
    private readonly TestApp _app;
    private int _calls;
    private int _disposed;

    private FakeModelBackend(TestApp app) => _app = app;

    /// <summary>Gets the backend's base URL (e.g. <c>http://127.0.0.1:41234/</c>).</summary>
    public Uri BaseAddress => _app.BaseAddress;

    /// <summary>Gets or sets how chat completions are answered.</summary>
    public FakeBackendMode Mode { get; set; }

    /// <summary>Gets or sets the status <c>/health</c> answers.</summary>
    public int HealthStatus { get; set; } = 200;

    /// <summary>Gets the number of chat completion calls received.</summary>
    public int Calls => Volatile.Read(ref _calls);

    /// <summary>Gets the number of <c>/health</c> probes received.</summary>
    public int HealthProbes { get; private set; }

    /// <summary>Gets a channel receiving, for every <c>/health</c> probe, the status it is answered with.</summary>
    public Channel<int> HealthArrivals { get; } = Channel.CreateUnbounded<int>();

    /// <summary>Gets a channel receiving the path of every chat completion call as it arrives.</summary>
    public Channel<string> Arrivals { get; } = Channel.CreateUnbounded<string>();

    /// <summary>
    /// Gets the gate of streamed events: the first event is written at once, each further event waits for one
    /// release of this semaphore. Release it generously for a stream that should just flow.
    /// </summary>
    public SemaphoreSlim StreamGate { get; } = new(0);

    /// <summary>Gets or sets how many content events a stream carries.</summary>
    public int StreamEvents { get; set; } = 3;

    /// <summary>Starts a backend on a free loopback port.</summary>
    public static async Task<FakeModelBackend> StartAsync()
    {
        FakeModelBackend? backend = null;
        var app = await TestApp.StartKestrelAsync(
            _ => { },
            web =>
            {
                web.MapGet("/health", (HttpContext _) =>
                {
                    backend!.HealthProbes++;
                    backend.HealthArrivals.Writer.TryWrite(backend.HealthStatus);
                    return Results.StatusCode(backend.HealthStatus);
                });
                web.MapPost("/v1/chat/completions", (HttpContext context) => backend!.ChatAsync(context));
                web.MapPost("/chat/completions", (HttpContext context) => backend!.ChatAsync(context));
                web.MapGet("/v1/models", (HttpContext context) => backend!.ChatAsync(context));
            });
        backend = new FakeModelBackend(app);
        return backend;
    }

    private async Task ChatAsync(HttpContext context)
    {
        Interlocked.Increment(ref _calls);
        string body;
        using (var reader = new StreamReader(context.Request.Body, Encoding.UTF8))
        {
            body = await reader.ReadToEndAsync(context.RequestAborted);
        }

        Arrivals.Writer.TryWrite(context.Request.Path.Value ?? string.Empty);
        switch (Mode)
        {
            case FakeBackendMode.Error:
                context.Response.StatusCode = 500;
                await context.Response.WriteAsync("backend exploded", context.RequestAborted);
                return;
            case FakeBackendMode.BadRequest:
                context.Response.StatusCode = 400;
                context.Response.ContentType = "application/json";
                await context.Response.WriteAsync("{\"error\":{\"message\":\"bad prompt\"}}", context.RequestAborted);
                return;
            case FakeBackendMode.Hang:
                try
                {
                    await Task.Delay(Timeout.Infinite, context.RequestAborted);
                }
                catch (OperationCanceledException)
                {
                }

                return;
        }

        if (body.Contains("\"stream\":true", StringComparison.Ordinal))
        {
            context.Response.ContentType = "text/event-stream";
            await context.Response.StartAsync(context.RequestAborted);
            for (var i = 0; i < StreamEvents; i++)
            {
                if (i > 0)
                {
                    await StreamGate.WaitAsync(context.RequestAborted);
                }

                await context.Response.WriteAsync("data: {\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"t" + i + "\"}}]}\n\n", context.RequestAborted);
                await context.Response.Body.FlushAsync(context.RequestAborted);
            }

            await context.Response.WriteAsync("data: {\"object\":\"chat.completion.chunk\",\"choices\":[],\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":" + StreamEvents + ",\"total_tokens\":" + (StreamEvents + 1) + "}}\n\ndata: [DONE]\n\n", context.RequestAborted);
            return;
        }

        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync("{\"id\":\"chatcmpl-fake\",\"object\":\"chat.completion\",\"model\":\"fake\",\"backend\":\"" + BaseAddress.Authority + "\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"hi\"},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":1,\"total_tokens\":2}}", context.RequestAborted);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        StreamGate.Release(1000);
        await _app.DisposeAsync();
        StreamGate.Dispose();
    }
}
