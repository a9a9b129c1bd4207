using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using AiEdge.Middleware.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace AiEdge.Middleware.ReverseProxy.Tests;

/// <summary>
/// An OpenAI-compatible model server (vLLM-style) on Kestrel over loopback, with vLLM's administrative endpoints
/// (<c>/pause</c>, <c>/abort_requests</c>, <c>/invocations</c>, <c>/metrics</c>) so a test can prove they are not
/// reachable. It records the requests it sees (health probes excluded). A streamed chat completion sends one event and
/// waits for <see cref="ReleaseStream"/>; <see cref="Status"/> makes it answer that status to everything, with
/// <see cref="RetryAfterSeconds"/> as <c>Retry-After</c>; <see cref="Hang"/> makes it never answer.
/// </summary>
public sealed class FakeModelServer : IAsyncDisposable
{
    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TestApp? _app;

    private FakeModelServer(string name) => Name = name;

    /// <summary>Gets the server's name, echoed as <c>model</c> in its answers.</summary>
    public string Name { get; }

    /// <summary>Gets or sets the status answered to every call (0: normal answers).</summary>
    public int Status { get; set; }

    /// <summary>Gets or sets the <c>Retry-After</c> sent with <see cref="Status"/>.</summary>
    public int? RetryAfterSeconds { get; set; }

    /// <summary>Gets or sets whether calls never get an answer.</summary>
    public bool Hang { get; set; }

    /// <summary>Gets or sets the text of a streamed answer's content events; the first is sent before <see cref="ReleaseStream"/>, the rest after.</summary>
    public IReadOnlyList<string> StreamChunks { get; set; } = ["Hel", "lo"];

    /// <summary>
    /// Gets or sets whether a streamed call that asks for usage (<c>stream_options.include_usage</c>) gets the final
    /// usage chunk (<c>"choices": []</c>) with <see cref="PromptTokens"/> and <see cref="CompletionTokens"/>.
    /// </summary>
    public bool SendsUsage { get; set; } = true;

    /// <summary>Gets or sets the prompt tokens reported in the usage chunk.</summary>
    public int PromptTokens { get; set; } = 11;

    /// <summary>Gets or sets the completion tokens reported in the usage chunk.</summary>
    public int CompletionTokens { get; set; } = 7;

    /// <summary>Gets or sets whether a streamed answer sends its headers (and <see cref="StallPrefix"/>) and then nothing, until the call is cancelled.</summary>
    public bool StallStream { get; set; }

    /// <summary>Gets or sets what a stalled stream sends before it stalls (e.g. half an event).</summary>
    public string StallPrefix { get; set; } = "";

    /// <summary>Gets the paths seen (with query), health probes excluded.</summary>
    public ConcurrentQueue<string> Requests { get; } = new();

    /// <summary>Gets the bodies seen.</summary>
    public ConcurrentQueue<string> Bodies { get; } = new();

    /// <summary>Gets the base URL.</summary>
    public Uri BaseAddress => _app!.BaseAddress;

    /// <summary>Lets held streams continue.</summary>
    public void ReleaseStream() => _release.TrySetResult();

    /// <summary>Starts a server on a free loopback port.</summary>
    public static async Task<FakeModelServer> StartAsync(string name)
    {
        var fake = new FakeModelServer(name);
        fake._app = await TestApp.StartKestrelAsync(_ => { }, app =>
        {
            app.MapGet("/health", () => Results.Ok());
            app.Map("/{**path}", fake.HandleAsync);
        });
        return fake;
    }

    /// <summary>A loopback URL where nothing listens (connections are refused).</summary>
    public static Uri RefusingAddress()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return new Uri("http://127.0.0.1:" + port.ToString(CultureInfo.InvariantCulture) + "/");
    }

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        var body = await new StreamReader(request.Body).ReadToEndAsync(context.RequestAborted);
        Requests.Enqueue(request.Path + request.QueryString);
        Bodies.Enqueue(body);
        if (Hang)
        {
            await Task.Delay(Timeout.Infinite, context.RequestAborted);
        }

        if (Status != 0)
        {
            context.Response.StatusCode = Status;
            if (RetryAfterSeconds is { } seconds)
            {
                context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
            }

            await context.Response.WriteAsync("{\"error\":\"gpu fault\"}", context.RequestAborted);
            return;
        }

        var compact = body.Replace(" ", "", StringComparison.Ordinal);
        if (compact.Contains("\"stream\":true", StringComparison.Ordinal))
        {
            context.Response.ContentType = "text/event-stream";
            await context.Response.Body.FlushAsync(context.RequestAborted);
            if (StallStream)
            {
                await context.Response.WriteAsync(StallPrefix, context.RequestAborted);
                await context.Response.Body.FlushAsync(context.RequestAborted);
                await Task.Delay(Timeout.Infinite, context.RequestAborted);
            }

            var chunks = StreamChunks;
            for (var i = 0; i < chunks.Count; i++)
            {
                await context.Response.WriteAsync("data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":" + JsonSerializer.Serialize(chunks[i]) + "}}],\"usage\":null}\n\n", context.RequestAborted);
                await context.Response.Body.FlushAsync(context.RequestAborted);
                if (i == 0)
                {
                    await _release.Task.WaitAsync(TimeSpan.FromSeconds(30), context.RequestAborted);
                }
            }

            if (SendsUsage && compact.Contains("\"include_usage\":true", StringComparison.Ordinal))
            {
                await context.Response.WriteAsync(
                    "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":" + PromptTokens.ToString(CultureInfo.InvariantCulture)
                    + ",\"completion_tokens\":" + CompletionTokens.ToString(CultureInfo.InvariantCulture)
                    + ",\"total_tokens\":" + (PromptTokens + CompletionTokens).ToString(CultureInfo.InvariantCulture) + "}}\n\n",
                    context.RequestAborted);
            }

            await context.Response.WriteAsync("data: [DONE]\n\n", context.RequestAborted);
            return;
        }

        context.Response.ContentType = "application/json";
        context.Response.Headers["X-Internal-Gpu"] = "7";
        context.Response.Headers.SetCookie = "backend=secret";
        await context.Response.WriteAsync("{\"model\":\"" + Name + "\",\"path\":\"" + request.Path + "\"}", context.RequestAborted);
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
