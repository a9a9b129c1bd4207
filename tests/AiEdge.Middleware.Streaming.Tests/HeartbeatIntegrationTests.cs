using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using AiEdge.Middleware.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Time.Testing;

namespace AiEdge.Middleware.Streaming.Tests;

/// <summary>Heartbeat comments on idle event streams, timed by the fake clock (FakeTimeProvider) over real Kestrel.</summary>
public sealed class HeartbeatIntegrationTests
{
    private const string Heartbeat = ": keep-alive";

    [Fact]
    public async Task IdleStream_HeartbeatExactlyAfterIntervalWithoutOutput()
    {
        var time = new FakeTimeProvider(TestClock.Start);
        var script = Channel.CreateUnbounded<string>();
        long heartbeats = 0;
        await using var app = await StreamingHost.StartAsync(app => app.MapScripted("/sse", script), time: time);
        using var listener = app.Listen("aiedge.stream.heartbeats", (value, _) => Interlocked.Add(ref heartbeats, value));
        using var response = await app.GetStreamAsync("/sse");
        var reader = new StreamingEventReader(await response.Content.ReadAsStreamAsync());

        script.Writer.TryWrite("data: one\n\n");
        Assert.Equal("data: one", await reader.ReadBlockAsync());

        // 14 s of silence: no heartbeat yet, so the next thing on the wire is the application's event.
        time.Advance(TimeSpan.FromSeconds(14));
        script.Writer.TryWrite("data: two\n\n");
        Assert.Equal("data: two", await reader.ReadBlockAsync());

        // The clock restarts at every output: 14 s after "two" (28 s after the start) is still quiet.
        time.Advance(TimeSpan.FromSeconds(14));
        script.Writer.TryWrite("data: three\n\n");
        Assert.Equal("data: three", await reader.ReadBlockAsync());

        time.Advance(TimeSpan.FromSeconds(15));
        Assert.Equal(Heartbeat, await reader.ReadBlockAsync());
        time.Advance(TimeSpan.FromSeconds(15));
        Assert.Equal(Heartbeat, await reader.ReadBlockAsync());

        script.Writer.Complete();
        Assert.Empty(await reader.ReadToEndAsync());
        Assert.Equal(2, Interlocked.Read(ref heartbeats));
    }

    [Fact]
    public async Task TypedResultsServerSentEvents_StageAddsHeartbeatsAndStreamHeaders()
    {
        var time = new FakeTimeProvider(TestClock.Start);
        var script = Channel.CreateUnbounded<SseItem<Token>>();
        await using var app = await StreamingHost.StartAsync(
            app => app.MapGet("/typed", (CancellationToken aborted) => TypedResults.ServerSentEvents(ReadAllAsync(script.Reader, aborted))),
            time: time);

        // The framework's result sends its headers with the first item, not before: the item is there first.
        script.Writer.TryWrite(new SseItem<Token>(new Token("Hel"), "token") { EventId = "1", ReconnectionInterval = TimeSpan.FromSeconds(3) });
        using var response = await app.GetStreamAsync("/typed");
        var reader = new StreamingEventReader(await response.Content.ReadAsStreamAsync());
        Assert.Equal("event: token\ndata: {\"text\":\"Hel\"}\nid: 1\nretry: 3000", await reader.ReadBlockAsync());

        // The framework's result writes nothing while its source waits: the stage beats for it, between items.
        time.Advance(TimeSpan.FromSeconds(15));
        Assert.Equal(Heartbeat, await reader.ReadBlockAsync());
        script.Writer.TryWrite(new SseItem<Token>(new Token("lo"), "token"));
        Assert.Equal("event: token\ndata: {\"text\":\"lo\"}", await reader.ReadBlockAsync());
        script.Writer.Complete();
        Assert.Empty(await reader.ReadToEndAsync());

        // Headers the framework's result does not set (or sets and the stage takes back), set by the stage.
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        Assert.Empty(response.Content.Headers.ContentEncoding);
        Assert.True(response.Headers.CacheControl is { NoCache: true, NoTransform: true }, response.Headers.CacheControl?.ToString());
        Assert.Equal(["no"], response.Headers.GetValues("X-Accel-Buffering"));
    }

    [Fact]
    public async Task HalfWrittenEvent_NoHeartbeatInsideIt()
    {
        var time = new FakeTimeProvider(TestClock.Start);
        var script = Channel.CreateUnbounded<string>();
        await using var app = await StreamingHost.StartAsync(app => app.MapScripted("/sse", script), time: time);
        using var response = await app.GetStreamAsync("/sse");
        var reader = new StreamingEventReader(await response.Content.ReadAsStreamAsync());

        script.Writer.TryWrite("event: token\ndata: par");
        await reader.WaitForTextAsync("data: par");
        time.Advance(TimeSpan.FromSeconds(60));
        script.Writer.TryWrite("tial\n\n");
        Assert.Equal("event: token\ndata: partial", await reader.ReadBlockAsync());

        // Back between events: the next silence gets its heartbeat.
        time.Advance(TimeSpan.FromSeconds(15));
        Assert.Equal(Heartbeat, await reader.ReadBlockAsync());
        script.Writer.Complete();
        Assert.Empty(await reader.ReadToEndAsync());
    }

    [Fact]
    public async Task CrLfEvents_BoundaryRecognized()
    {
        var time = new FakeTimeProvider(TestClock.Start);
        var script = Channel.CreateUnbounded<string>();
        await using var app = await StreamingHost.StartAsync(app => app.MapScripted("/sse", script), time: time);
        using var response = await app.GetStreamAsync("/sse");
        var reader = new StreamingEventReader(await response.Content.ReadAsStreamAsync());

        script.Writer.TryWrite("data: one\r\n\r");
        script.Writer.TryWrite("\n");
        Assert.Equal("data: one", await reader.ReadBlockAsync());
        time.Advance(TimeSpan.FromSeconds(15));

        // The boundary's last "\n" may reach the reader after it split on "\r\n\r": it then leads the next block.
        Assert.Equal(Heartbeat, (await reader.ReadBlockAsync())?.TrimStart('\n'));
        script.Writer.Complete();
    }

    [Fact]
    public async Task EndpointInterval_OverridesDefault()
    {
        var time = new FakeTimeProvider(TestClock.Start);
        var script = Channel.CreateUnbounded<string>();
        await using var app = await StreamingHost.StartAsync(app => app.MapScripted("/sse", script).WithStreaming(TimeSpan.FromSeconds(5)), time: time);
        using var response = await app.GetStreamAsync("/sse");
        var reader = new StreamingEventReader(await response.Content.ReadAsStreamAsync());

        script.Writer.TryWrite("data: one\n\n");
        Assert.Equal("data: one", await reader.ReadBlockAsync());
        time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(Heartbeat, await reader.ReadBlockAsync());
        script.Writer.Complete();
    }

    [Fact]
    public async Task ZeroInterval_NoHeartbeats()
    {
        var time = new FakeTimeProvider(TestClock.Start);
        var script = Channel.CreateUnbounded<string>();
        await using var app = await StreamingHost.StartAsync(
            app => app.MapScripted("/sse", script),
            time: time,
            configuration: new Dictionary<string, string?> { ["AiEdge:Streaming:HeartbeatInterval"] = "00:00:00" });
        using var response = await app.GetStreamAsync("/sse");
        var reader = new StreamingEventReader(await response.Content.ReadAsStreamAsync());

        script.Writer.TryWrite("data: one\n\n");
        Assert.Equal("data: one", await reader.ReadBlockAsync());
        time.Advance(TimeSpan.FromMinutes(5));
        script.Writer.TryWrite("data: two\n\n");
        Assert.Equal("data: two", await reader.ReadBlockAsync());
        script.Writer.Complete();
        Assert.Empty(await reader.ReadToEndAsync());
    }

    [Fact]
    public async Task NotEventStream_NoHeartbeats()
    {
        var time = new FakeTimeProvider(TestClock.Start);
        var script = Channel.CreateUnbounded<string>();
        await using var app = await StreamingHost.StartAsync(
            app => app.MapGet("/ndjson", async context =>
            {
                context.Response.ContentType = "application/x-ndjson";
                await foreach (var line in script.Reader.ReadAllAsync(context.RequestAborted))
                {
                    await context.Response.WriteAsync(line, context.RequestAborted);
                }
            }),
            time: time,
            configuration: new Dictionary<string, string?> { ["AiEdge:Streaming:AdditionalContentTypes:0"] = "application/x-ndjson" });
        script.Writer.TryWrite("{\"a\":1}\n\n");
        using var response = await app.GetStreamAsync("/ndjson");
        var stream = await response.Content.ReadAsStreamAsync();

        var reader = new StreamingEventReader(stream);
        Assert.Equal("{\"a\":1}", await reader.ReadBlockAsync());
        time.Advance(TimeSpan.FromMinutes(1));
        script.Writer.TryWrite("{\"b\":2}\n\n");
        script.Writer.Complete();

        Assert.Equal(["{\"b\":2}"], await reader.ReadToEndAsync());
        Assert.Empty(response.Content.Headers.ContentEncoding);
        Assert.Equal(["no"], response.Headers.GetValues("X-Accel-Buffering"));
    }

    private static async IAsyncEnumerable<T> ReadAllAsync<T>(ChannelReader<T> reader, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var item in reader.ReadAllAsync(cancellationToken))
        {
            yield return item;
        }
    }

    private sealed record Token(string Text);
}
