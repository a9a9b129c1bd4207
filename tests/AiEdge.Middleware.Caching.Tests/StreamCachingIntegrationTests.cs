using System.Net;
using System.Text;
using AiEdge.Middleware.Caching;
using AiEdge.Middleware.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace AiEdge.Middleware.Caching.Tests;

/// <summary>Event streams through Kestrel on loopback: live forwarding, storing only completed streams, replay.</summary>
public sealed class StreamCachingIntegrationTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private sealed class Generator
    {
        private int _runs;

        public int Runs => Volatile.Read(ref _runs);

        public TaskCompletionSource Gate { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public bool Complete { get; set; } = true;

        /// <summary>When set, the first run stops at the first event and waits for its client to go away.</summary>
        public TaskCompletionSource? Abandoned { get; set; }

        public async Task HandleAsync(HttpContext context)
        {
            var run = Interlocked.Increment(ref _runs);
            using var document = await System.Text.Json.JsonDocument.ParseAsync(context.Request.Body);
            if (!document.RootElement.TryGetProperty("stream", out var stream) || !stream.GetBoolean())
            {
                await context.Response.WriteAsJsonAsync(new { run, streamed = false });
                return;
            }

            context.Response.ContentType = "text/event-stream";
            context.Response.Headers.CacheControl = "no-cache, no-transform";
            await context.Response.StartAsync();
            await context.Response.WriteAsync($"data: {{\"run\":{run},\"token\":\"Hel\"}}\n\n");
            await context.Response.Body.FlushAsync();
            if (run == 1 && Abandoned is { } abandoned)
            {
                try
                {
                    await Task.Delay(System.Threading.Timeout.Infinite, context.RequestAborted);
                }
                catch (OperationCanceledException)
                {
                    abandoned.SetResult();
                    throw;
                }
            }

            await Gate.Task;
            await context.Response.WriteAsync($"data: {{\"run\":{run},\"token\":\"lo\"}}\n\n");
            await context.Response.WriteAsync("event: usage\ndata: {\"tokens\":2}\n\n");
            if (Complete)
            {
                await context.Response.WriteAsync("data: [DONE]\n\n");
            }
        }
    }

    private static Task<TestApp> StartAsync(Generator generator)
        => CachingHost.StartAsync(
            app => app.MapPost("/v1/chat/completions", generator.HandleAsync).WithPredictionCache(),
            cache: options => options.Anonymous = AnonymousCaching.Shared,
            kestrel: true);

    private static async Task<string> ReadEventAsync(Stream stream, StringBuilder pending)
    {
        var buffer = new byte[1024];
        while (true)
        {
            var text = pending.ToString();
            var end = text.IndexOf("\n\n", StringComparison.Ordinal);
            if (end >= 0)
            {
                pending.Remove(0, end + 2);
                return text[..end];
            }

            var read = await stream.ReadAsync(buffer).AsTask().WaitAsync(Timeout);
            if (read == 0)
            {
                return "";
            }

            pending.Append(Encoding.UTF8.GetString(buffer, 0, read));
        }
    }

    private const string StreamBody = """{"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]}""";

    [Fact]
    public async Task Stream_IsForwardedEventByEvent_ThenStoredAndReplayedWhenComplete()
    {
        var generator = new Generator();
        await using var app = await StartAsync(generator);

        using var first = await app.Client.SendAsync(CachingHost.Post("/v1/chat/completions", StreamBody), HttpCompletionOption.ResponseHeadersRead).WaitAsync(Timeout);
        await using var stream = await first.Content.ReadAsStreamAsync();
        var pending = new StringBuilder();

        // The first event arrives while the endpoint is still blocked: nothing is buffered.
        var firstEvent = await ReadEventAsync(stream, pending);
        Assert.Equal("data: {\"run\":1,\"token\":\"Hel\"}", firstEvent);
        generator.Gate.SetResult();
        var rest = new List<string>();
        string next;
        while ((next = await ReadEventAsync(stream, pending)) != "")
        {
            rest.Add(next);
        }

        Assert.Equal(["data: {\"run\":1,\"token\":\"lo\"}", "event: usage\ndata: {\"tokens\":2}", "data: [DONE]"], rest);
        Assert.Equal("MISS", CachingHost.XCache(first));

        using var replay = await app.Client.SendAsync(CachingHost.Post("/v1/chat/completions", StreamBody)).WaitAsync(Timeout);
        var replayed = await replay.Content.ReadAsStringAsync().WaitAsync(Timeout);

        Assert.Equal("HIT", CachingHost.XCache(replay));
        Assert.False(replay.Headers.Contains("Age"));
        Assert.Equal("text/event-stream", replay.Content.Headers.ContentType?.MediaType);
        Assert.Equal(firstEvent + "\n\n" + string.Join("\n\n", rest) + "\n\n", replayed);
        Assert.Equal(1, generator.Runs);
    }

    [Fact]
    public async Task Stream_WithoutTerminalEvent_IsNeverStored()
    {
        var generator = new Generator { Complete = false };
        generator.Gate.SetResult();
        await using var app = await StartAsync(generator);

        using var first = await app.Client.SendAsync(CachingHost.Post("/v1/chat/completions", StreamBody)).WaitAsync(Timeout);
        var firstText = await first.Content.ReadAsStringAsync().WaitAsync(Timeout);
        using var second = await app.Client.SendAsync(CachingHost.Post("/v1/chat/completions", StreamBody)).WaitAsync(Timeout);
        await second.Content.ReadAsStringAsync().WaitAsync(Timeout);

        Assert.DoesNotContain("[DONE]", firstText);
        Assert.Equal("MISS", CachingHost.XCache(second));
        Assert.Equal(2, generator.Runs);
    }

    [Fact]
    public async Task Stream_ClientGoneMidStream_IsNeverStored()
    {
        var generator = new Generator { Abandoned = new(TaskCreationOptions.RunContinuationsAsynchronously) };
        await using var app = await StartAsync(generator);

        using (var cancelled = await app.Client.SendAsync(CachingHost.Post("/v1/chat/completions", StreamBody), HttpCompletionOption.ResponseHeadersRead).WaitAsync(Timeout))
        {
            await using var stream = await cancelled.Content.ReadAsStreamAsync();
            await ReadEventAsync(stream, new StringBuilder());
        }

        // The client went away after the first event; the generator stops without its terminal event.
        await generator.Abandoned.Task.WaitAsync(Timeout);
        generator.Gate.SetResult();
        using var again = await app.Client.SendAsync(CachingHost.Post("/v1/chat/completions", StreamBody)).WaitAsync(Timeout);
        var text = await again.Content.ReadAsStringAsync().WaitAsync(Timeout);

        Assert.Equal("MISS", CachingHost.XCache(again));
        Assert.Contains("\"run\":2", text);
    }

    [Fact]
    public async Task StreamedAndNonStreamedAnswers_NeverMix()
    {
        var generator = new Generator();
        generator.Gate.SetResult();
        await using var app = await StartAsync(generator);

        using var streamed = await app.Client.SendAsync(CachingHost.Post("/v1/chat/completions", StreamBody)).WaitAsync(Timeout);
        await streamed.Content.ReadAsStringAsync().WaitAsync(Timeout);
        using var plain = await app.Client.SendAsync(CachingHost.Post("/v1/chat/completions", StreamBody.Replace("\"stream\":true", "\"stream\":false"))).WaitAsync(Timeout);
        var plainText = await plain.Content.ReadAsStringAsync().WaitAsync(Timeout);

        Assert.Equal(HttpStatusCode.OK, plain.StatusCode);
        Assert.Equal("MISS", CachingHost.XCache(plain));
        Assert.Equal("application/json", plain.Content.Headers.ContentType?.MediaType);
        Assert.Contains("\"streamed\":false", plainText);
    }
}
