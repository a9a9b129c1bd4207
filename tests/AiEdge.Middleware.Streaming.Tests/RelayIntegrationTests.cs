using System.Collections.Concurrent;
using System.Text;
using AiEdge.Middleware.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace AiEdge.Middleware.Streaming.Tests;

/// <summary>An upstream event stream (a second Kestrel app standing for an OpenAI-compatible backend) relayed as it arrives.</summary>
public sealed class RelayIntegrationTests
{
    [Theory]
    [InlineData("/relay-extension")]
    [InlineData("/relay-result")]
    public async Task Relay_BackendStillProducing_FirstEventArrives(string path)
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var backend = await StartBackendAsync(release.Task, new TaskCompletionSource());
        await using var edge = await StartEdgeAsync(backend.BaseAddress);

        using var response = await edge.GetStreamAsync(path);
        var reader = new StreamingEventReader(await response.Content.ReadAsStreamAsync());
        Assert.True(response.IsSuccessStatusCode, response.ToString());

        Assert.Equal("data: {\"choices\":[{\"delta\":{\"content\":\"Hel\"}}]}", await reader.ReadBlockAsync());
        Assert.False(release.Task.IsCompleted);
        release.SetResult();
        Assert.Equal(["data: {\"choices\":[{\"delta\":{\"content\":\"lo\"}}]}", "data: [DONE]"], await reader.ReadToEndAsync());
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        Assert.Empty(response.Content.Headers.ContentEncoding);
    }

    [Fact]
    public async Task Relay_ClientLeaves_BackendRequestCancelled()
    {
        var backendAborted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var backend = await StartBackendAsync(new TaskCompletionSource().Task, backendAborted);
        await using var edge = await StartEdgeAsync(backend.BaseAddress);

        var response = await edge.GetStreamAsync("/relay-extension");
        var reader = new StreamingEventReader(await response.Content.ReadAsStreamAsync());
        Assert.StartsWith("data: ", await reader.ReadBlockAsync());
        response.Dispose();

        await backendAborted.Task.WaitAsync(StreamingEventReader.DefaultTimeout);
    }

    private const string ErrorEvent =
        "event: error\ndata: {\"error\":{\"message\":\"The model backend broke the stream.\",\"type\":\"server_error\",\"code\":\"backend_stream_broken\"}}\n\n";

    [Theory]
    [InlineData("/relay-extension")]
    [InlineData("/relay-result")]
    [InlineData("/relay-stream")]
    public async Task Relay_UpstreamDiesBetweenEvents_ClientGetsTheEventsAnErrorEventAndACleanEnd_WarningAndCountNoError(string path)
    {
        await using var backend = await BrokenBackend.StartAsync();
        var logs = new LogCapture();
        await using var edge = await StartEdgeAsync(backend.BaseAddress, logs);
        var broken = new ConcurrentQueue<string?>();
        using var listener = edge.Listen("aiedge.backend.broken_streams", (_, tags) => broken.Enqueue(Tag(tags, "aiedge.breaker.name")));

        using var response = await edge.GetStreamAsync(path);
        Assert.True(response.IsSuccessStatusCode, response.ToString());
        var body = await response.Content.ReadAsStringAsync().WaitAsync(StreamingEventReader.DefaultTimeout);   // throws unless the stream ended cleanly

        var events = BrokenBackend.Event(0) + BrokenBackend.Event(1);
        Assert.Equal(events + ErrorEvent, body);
        Assert.Empty(logs.Errors());
        var warning = Assert.Single(logs.Entries, e => e.EventId.Id == 1306);
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Equal("UpstreamStreamBroken", warning.EventId.Name);
        Assert.Contains("after " + Encoding.UTF8.GetByteCount(events) + " bytes", warning.Message, StringComparison.Ordinal);
        Assert.Contains(path == "/relay-stream" ? "unknown" : backend.BaseAddress.Authority, warning.Message, StringComparison.Ordinal);
        Assert.Equal(path == "/relay-stream" ? "unknown" : backend.BaseAddress.Authority, Assert.Single(broken));
    }

    [Theory]
    [InlineData("/relay-extension")]
    [InlineData("/relay-result")]
    public async Task Relay_UpstreamDiesInsideAnEvent_PartialEventIsLeftUnterminated_CleanEnd(string path)
    {
        await using var backend = await BrokenBackend.StartAsync();
        backend.PartialEvent = "data: {\"object\":\"chat.comp";
        var logs = new LogCapture();
        await using var edge = await StartEdgeAsync(backend.BaseAddress, logs);

        using var response = await edge.GetStreamAsync(path);
        var body = await response.Content.ReadAsStringAsync().WaitAsync(StreamingEventReader.DefaultTimeout);

        // An SSE parser discards an event the stream ends inside of; nothing is appended that would complete it.
        Assert.Equal(BrokenBackend.Event(0) + BrokenBackend.Event(1) + backend.PartialEvent, body);
        Assert.Empty(logs.Errors());
        Assert.Single(logs.Entries, e => e.EventId.Id == 1306);
    }

    [Theory]
    [InlineData("data: a\r\n\r\n", true)]
    [InlineData("data: a\n\r\n", true)]
    [InlineData("data: a\r\r", true)]
    [InlineData("data: a\r\n", false)]
    [InlineData("data: a", false)]
    public async Task Relay_UpstreamStreamThrows_ErrorEventOnlyAtAnEventBoundary_AnyLineEnding(string sent, bool boundary)
    {
        var logs = new LogCapture();
        await using var edge = await StreamingHost.StartAsync(
            app => app.MapGet("/relay-breaking", (HttpContext context) =>
                context.Response.RelayEventStreamAsync(new BreakingStream(Encoding.UTF8.GetBytes(sent)), context.RequestAborted)),
            services: builder => builder.Logging.AddProvider(logs));

        using var response = await edge.GetStreamAsync("/relay-breaking");
        var body = await response.Content.ReadAsStringAsync().WaitAsync(StreamingEventReader.DefaultTimeout);

        Assert.Equal(boundary ? sent + ErrorEvent : sent, body);
        Assert.Empty(logs.Errors());
        Assert.Contains("after " + Encoding.UTF8.GetByteCount(sent) + " bytes", Assert.Single(logs.Entries, e => e.EventId.Id == 1306).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Relay_UpstreamJsonBodyCutShort_ClientConnectionIsAborted_WarningNoError()
    {
        // The backend sends its headers and half a JSON body, and dies once the edge has its headers.
        var edgeHasHeaders = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var backend = await TestApp.StartKestrelAsync(
            static _ => { },
            app => app.MapPost("/v1/chat/completions", async (HttpContext context) =>
            {
                context.Response.ContentType = "application/json";
                await context.Response.StartAsync(context.RequestAborted);
                await context.Response.WriteAsync("{\"object\":\"chat.completion\",\"choi", context.RequestAborted);
                await context.Response.Body.FlushAsync(context.RequestAborted);
                await edgeHasHeaders.Task.WaitAsync(context.RequestAborted);
                context.Abort();
            }));
        var logs = new LogCapture();
        using var client = new HttpClient { BaseAddress = backend.BaseAddress };
        await using var edge = await StreamingHost.StartAsync(
            app => app.MapGet("/relay-json", async (HttpContext context) =>
            {
                var upstream = await client.SendAsync(new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions"), HttpCompletionOption.ResponseHeadersRead, context.RequestAborted);
                edgeHasHeaders.TrySetResult();
                await context.Response.RelayEventStreamAsync(upstream, context.RequestAborted);
            }),
            services: builder => builder.Logging.AddProvider(logs));

        using var response = await edge.GetStreamAsync("/relay-json");

        // A cut JSON body must not look complete: the client's read fails instead of returning half an answer.
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => response.Content.ReadAsStringAsync().WaitAsync(StreamingEventReader.DefaultTimeout));
        await WaitForAsync(() => logs.Entries.Any(e => e.EventId.Id == 1306));
        Assert.Empty(logs.Errors());
        Assert.Equal(LogLevel.Warning, Assert.Single(logs.Entries, e => e.EventId.Id == 1306).Level);
    }

    [Theory]
    [InlineData("/relay-extension")]
    [InlineData("/relay-result")]
    public async Task Relay_ClientLeaves_IsNotABrokenStream_NothingLoggedAboveDebug(string path)
    {
        var backendAborted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var backend = await StartBackendAsync(new TaskCompletionSource().Task, backendAborted);
        var logs = new LogCapture();
        await using var edge = await StartEdgeAsync(backend.BaseAddress, logs);
        var broken = 0;
        var disconnected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var brokenListener = edge.Listen("aiedge.backend.broken_streams", (value, _) => Interlocked.Add(ref broken, (int)value));
        using var disconnectListener = edge.Listen("aiedge.client.disconnects", (_, _) => disconnected.TrySetResult());

        var response = await edge.GetStreamAsync(path);
        var reader = new StreamingEventReader(await response.Content.ReadAsStreamAsync());
        Assert.StartsWith("data: ", await reader.ReadBlockAsync());
        response.Dispose();

        await backendAborted.Task.WaitAsync(StreamingEventReader.DefaultTimeout);
        await disconnected.Task.WaitAsync(StreamingEventReader.DefaultTimeout);   // the edge's handler has ended
        Assert.Equal(0, Volatile.Read(ref broken));
        Assert.Empty(logs.Errors());
        Assert.DoesNotContain(logs.Entries, e => e.EventId.Id == 1306);
    }

    private static async Task WaitForAsync(Func<bool> condition)
    {
        using var timeout = new CancellationTokenSource(StreamingEventReader.DefaultTimeout);
        while (!condition())
        {
            await Task.Delay(10, timeout.Token);
        }
    }

    private static string? Tag(ReadOnlySpan<KeyValuePair<string, object?>> tags, string key)
    {
        foreach (var tag in tags)
        {
            if (tag.Key == key)
            {
                return tag.Value as string;
            }
        }

        return null;
    }

    private static Task<TestApp> StartBackendAsync(Task release, TaskCompletionSource aborted)
        => TestApp.StartKestrelAsync(
            static _ => { },
            app => app.MapPost("/v1/chat/completions", async (HttpContext context) =>
            {
                context.RequestAborted.Register(static state => ((TaskCompletionSource)state!).TrySetResult(), aborted);
                context.Response.ContentType = "text/event-stream";
                await context.Response.WriteAsync("data: {\"choices\":[{\"delta\":{\"content\":\"Hel\"}}]}\n\n", context.RequestAborted);
                await context.Response.Body.FlushAsync(context.RequestAborted);
                await release.WaitAsync(context.RequestAborted);
                await context.Response.WriteAsync("data: {\"choices\":[{\"delta\":{\"content\":\"lo\"}}]}\n\ndata: [DONE]\n\n", context.RequestAborted);
            }));

    private static Task<TestApp> StartEdgeAsync(Uri backend, LogCapture? logs = null)
    {
        var client = new HttpClient { BaseAddress = backend };
        return StreamingHost.StartAsync(app =>
        {
            app.Lifetime.ApplicationStopped.Register(client.Dispose);
            app.MapGet("/relay-extension", async (HttpContext context) =>
            {
                var upstream = await client.SendAsync(ChatRequest(), HttpCompletionOption.ResponseHeadersRead, context.RequestAborted);
                await context.Response.RelayEventStreamAsync(upstream, context.RequestAborted);
            }).WithStreaming();
            app.MapGet("/relay-result", async Task<IResult> (HttpContext context) =>
                EventStreamResults.Relay(await client.SendAsync(ChatRequest(), HttpCompletionOption.ResponseHeadersRead, context.RequestAborted)));
            app.MapGet("/relay-stream", async (HttpContext context) =>
            {
                using var upstream = await client.SendAsync(ChatRequest(), HttpCompletionOption.ResponseHeadersRead, context.RequestAborted);
                await using var body = await upstream.Content.ReadAsStreamAsync(context.RequestAborted);
                await context.Response.RelayEventStreamAsync(body, context.RequestAborted);
            });
        }, services: logs is null ? null : builder => builder.Logging.AddProvider(logs));

        static HttpRequestMessage ChatRequest() => new(HttpMethod.Post, "/v1/chat/completions") { Content = new StringContent("{\"stream\":true}") };
    }

    /// <summary>An upstream body that returns its bytes, then fails the way a reset connection does.</summary>
    private sealed class BreakingStream(byte[] bytes) : Stream
    {
        private bool _sent;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_sent)
            {
                throw new IOException("Connection reset by peer.");
            }

            _sent = true;
            bytes.CopyTo(buffer);
            return ValueTask.FromResult(bytes.Length);
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
