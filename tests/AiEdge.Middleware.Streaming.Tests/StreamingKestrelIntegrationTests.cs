using System.Net;
using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using AiEdge.Middleware.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Timeouts;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AiEdge.Middleware.Streaming.Tests;

/// <summary>
/// Streams through real Kestrel over loopback with response compression configured to compress text/event-stream
/// and the AiEdge pipeline on: the first event must reach the client while the handler is still blocked.
/// </summary>
public sealed class StreamingKestrelIntegrationTests
{
    public static TheoryData<string, CompressionPlacement> Producers => new()
    {
        { "writer", CompressionPlacement.BeforeAiEdge },
        { "typed-results", CompressionPlacement.BeforeAiEdge },
        { "raw-body", CompressionPlacement.BeforeAiEdge },
        { "body-writer", CompressionPlacement.BeforeAiEdge },
        { "marked-raw-body", CompressionPlacement.AfterAiEdge },
        { "marked-writer", CompressionPlacement.AfterAiEdge },
    };

    [Theory]
    [MemberData(nameof(Producers))]
    public async Task EventStream_HandlerStillProducing_FirstEventArrivesUncompressed(string producer, CompressionPlacement compression)
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var app = await StreamingHost.StartAsync(
            app => MapProducers(app, release.Task),
            compression);

        using var response = await app.GetStreamAsync("/" + producer);
        var reader = new StreamingEventReader(await response.Content.ReadAsStreamAsync());

        // The handler is blocked until the test releases it: event 1 can only arrive if nothing held it back.
        var first = await reader.ReadBlockAsync();
        Assert.False(release.Task.IsCompleted);
        release.SetResult();
        var rest = await reader.ReadToEndAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        Assert.Empty(response.Content.Headers.ContentEncoding);
        Assert.Contains("data: one", first);
        Assert.Contains(rest, block => block.Contains("data: two", StringComparison.Ordinal));
    }

    [Fact]
    public async Task EventStream_Headers_NoCacheNoTransformNoAccelBufferingNoContentLength()
    {
        await using var app = await StreamingHost.StartAsync(static app => app.MapGet("/sse", static async (HttpContext context) =>
        {
            context.Response.ContentType = "text/event-stream";
            context.Response.ContentLength = 1000;
            context.Response.Headers.CacheControl = "private";
            await context.Response.WriteAsync("data: one\n\n");
        }));

        using var response = await app.GetStreamAsync("/sse");
        var sentLength = response.Content.Headers.ContentLength;   // read before buffering computes one
        var body = await response.Content.ReadAsStringAsync().WaitAsync(StreamingEventReader.DefaultTimeout);

        Assert.Equal("data: one\n\n", body);
        Assert.Null(sentLength);
        Assert.True(response.Headers.TransferEncodingChunked);
        var cacheControl = response.Headers.CacheControl!;
        Assert.True(cacheControl.NoCache);
        Assert.True(cacheControl.NoTransform);
        Assert.True(cacheControl.Private);
        Assert.Equal(["no"], response.Headers.GetValues("X-Accel-Buffering"));
    }

    [Fact]
    public async Task Writer_WithoutTheStage_StillUncompressedAndFlushedPerEvent()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var app = await StreamingHost.StartAsync(app => MapProducers(app, release.Task), addStreaming: false);

        using var response = await app.GetStreamAsync("/writer");
        var reader = new StreamingEventReader(await response.Content.ReadAsStreamAsync());
        Assert.Equal("data: one", await reader.ReadBlockAsync());
        release.SetResult();

        Assert.Equal(["data: two"], await reader.ReadToEndAsync());
        Assert.Empty(response.Content.Headers.ContentEncoding);
    }

    [Fact]
    public async Task DetectionOff_OnlyMarkedEndpointsStreamed_AttributeCounts()
    {
        await using var app = await StreamingHost.StartAsync(
            static app =>
            {
                app.MapGet("/unmarked", static (HttpContext context) => WriteEventAsync(context));
                app.MapGet("/attribute", [Streaming(HeartbeatSeconds = 5)] static (HttpContext context) => WriteEventAsync(context));
            },
            configuration: new Dictionary<string, string?> { ["AiEdge:Streaming:DetectEventStreams"] = "false" });

        using var unmarked = await app.GetStreamAsync("/unmarked");
        using var marked = await app.GetStreamAsync("/attribute");
        await unmarked.Content.ReadAsStringAsync().WaitAsync(StreamingEventReader.DefaultTimeout);
        await marked.Content.ReadAsStringAsync().WaitAsync(StreamingEventReader.DefaultTimeout);

        Assert.False(unmarked.Headers.Contains("X-Accel-Buffering"));
        Assert.NotEmpty(unmarked.Content.Headers.ContentEncoding);
        Assert.Equal(["no"], marked.Headers.GetValues("X-Accel-Buffering"));
        Assert.Empty(marked.Content.Headers.ContentEncoding);

        static async Task WriteEventAsync(HttpContext context)
        {
            context.Response.ContentType = "text/event-stream";
            await context.Response.WriteAsync("data: one\n\n");
        }
    }

    [Fact]
    public async Task Control_WithoutStreamingStage_SameAppCompressesTheEventStream()
    {
        // Proves the compression set-up of these tests does compress event streams when the stage is absent.
        await using var app = await StreamingHost.StartAsync(
            static app => app.MapGet("/sse", static async (HttpContext context) =>
            {
                context.Response.ContentType = "text/event-stream";
                await context.Response.WriteAsync("data: one\n\n");
            }),
            addStreaming: false);

        using var response = await app.GetStreamAsync("/sse");
        await response.Content.ReadAsByteArrayAsync().WaitAsync(StreamingEventReader.DefaultTimeout);

        Assert.NotEmpty(response.Content.Headers.ContentEncoding);
    }

    [Fact]
    public async Task NonStreamResponse_StillCompressed()
    {
        await using var app = await StreamingHost.StartAsync(static app => app.MapGet("/json", static () => Results.Ok(new { text = new string('x', 2000) })));

        using var response = await app.GetStreamAsync("/json");
        await response.Content.ReadAsByteArrayAsync().WaitAsync(StreamingEventReader.DefaultTimeout);

        Assert.NotEmpty(response.Content.Headers.ContentEncoding);
        Assert.False(response.Headers.Contains("X-Accel-Buffering"));
    }

    [Fact]
    public async Task MarkedEndpoint_RequestTimeoutPolicy_DoesNotCutTheStream()
    {
        var script = Channel.CreateUnbounded<string>();
        await using var app = await StreamingHost.StartAsync(
            app => app.MapScripted("/sse", script).WithStreaming(),
            services: static builder => builder.Services.AddRequestTimeouts(static options => options.DefaultPolicy = new RequestTimeoutPolicy { Timeout = TimeSpan.FromMilliseconds(1) }),
            beforeMap: static app => app.UseRequestTimeouts());

        using var response = await app.GetStreamAsync("/sse");
        var reader = new StreamingEventReader(await response.Content.ReadAsStreamAsync());
        script.Writer.TryWrite("data: one\n\n");
        Assert.Equal("data: one", await reader.ReadBlockAsync());

        // Far more than 1 ms has passed since the request started: a timeout in force would have cancelled it.
        script.Writer.TryWrite("data: two\n\n");
        script.Writer.Complete();
        Assert.Equal(["data: two"], await reader.ReadToEndAsync());
    }

    [Fact]
    public async Task Disconnect_CancelsUpstreamWork_CountsItAndLogsNoError()
    {
        var cancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var disconnectCounted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var logs = new LogCapture();
        await using var app = await StreamingHost.StartAsync(
            app => app.MapGet("/sse", (HttpContext context) => EventStreamResults.Data(Produce(cancelled, context.RequestAborted))),
            services: builder =>
            {
                builder.Logging.AddProvider(logs);
                builder.Logging.SetMinimumLevel(LogLevel.Debug);
            });
        using var listener = app.Listen("aiedge.client.disconnects", (_, tags) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == AiEdgeDiagnostics.Tags.Concern && (string?)tag.Value == "stream")
                {
                    disconnectCounted.TrySetResult();
                }
            }
        });

        var response = await app.GetStreamAsync("/sse");
        var reader = new StreamingEventReader(await response.Content.ReadAsStreamAsync());
        Assert.Equal("data: one", await reader.ReadBlockAsync());
        response.Dispose();

        await cancelled.Task.WaitAsync(StreamingEventReader.DefaultTimeout);
        await disconnectCounted.Task.WaitAsync(StreamingEventReader.DefaultTimeout);
        var entries = logs.Entries;
        Assert.DoesNotContain(entries, static entry => entry.Level >= LogLevel.Warning && entry.EventId.Name != "Http2DisabledWithHttp1AndNoTls");
        Assert.Contains(entries, entry => entry.EventId.Name == "StreamEnded" && entry.Message.Contains("client disconnected: True", StringComparison.Ordinal));

        static async IAsyncEnumerable<string> Produce(TaskCompletionSource cancelled, [EnumeratorCancellation] CancellationToken cancellationToken)
        {
            yield return "one";
            try
            {
                // Stands for a backend call that would produce the next token.
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                cancelled.TrySetResult();
                throw;
            }

            yield return "never";
        }
    }

    private static void MapProducers(WebApplication app, Task release)
    {
        app.MapGet("/writer", async (HttpContext context) =>
        {
            var writer = await EventStreamWriter.StartAsync(context.Response, cancellationToken: context.RequestAborted);
            await writer.WriteAsync("one", cancellationToken: context.RequestAborted);
            await release.WaitAsync(context.RequestAborted);
            await writer.WriteAsync("two", cancellationToken: context.RequestAborted);
        });

        app.MapGet("/typed-results", () => TypedResults.ServerSentEvents(Items(release)));

        app.MapGet("/raw-body", async (HttpContext context) =>
        {
            context.Response.ContentType = "text/event-stream";
            await context.Response.Body.WriteAsync("data: one\n\n"u8.ToArray(), context.RequestAborted);
            await release.WaitAsync(context.RequestAborted);
            await context.Response.Body.WriteAsync("data: two\n\n"u8.ToArray(), context.RequestAborted);
        });

        app.MapGet("/body-writer", async (HttpContext context) =>
        {
            context.Response.ContentType = "text/event-stream; charset=utf-8";
            await context.Response.BodyWriter.WriteAsync("data: one\n\n"u8.ToArray(), context.RequestAborted);
            await release.WaitAsync(context.RequestAborted);
            await context.Response.BodyWriter.WriteAsync("data: two\n\n"u8.ToArray(), context.RequestAborted);
        });

        app.MapGet("/marked-raw-body", async (HttpContext context) =>
        {
            context.Response.ContentType = "text/event-stream";
            await context.Response.Body.WriteAsync("data: one\n\n"u8.ToArray(), context.RequestAborted);
            await context.Response.Body.FlushAsync(context.RequestAborted);
            await release.WaitAsync(context.RequestAborted);
            await context.Response.Body.WriteAsync("data: two\n\n"u8.ToArray(), context.RequestAborted);
        }).WithStreaming();

        app.MapGet("/marked-writer", (HttpContext context) => EventStreamResults.Data(Items(release))).WithStreaming();
    }

    private static async IAsyncEnumerable<string> Items(Task release)
    {
        yield return "one";
        await release;
        yield return "two";
    }
}
