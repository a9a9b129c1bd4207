using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using AiEdge.Middleware.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace AiEdge.Middleware.Streaming.Tests;

/// <summary>The wire format of <see cref="EventStreamWriter"/> and the event-stream results.</summary>
public sealed class EventStreamWriterTests
{
    private sealed record Token(string Content, int Index);

    [Fact]
    public async Task Items_WithFieldsJsonAndCompletion_ExactWireFormat()
    {
        await using var app = await StreamingHost.StartAsync(static app => app.MapGet("/sse", static () => EventStreamResults.Items(
            Items([
                new SseItem<Token>(new Token("Hi", 0), "token") { EventId = "1", ReconnectionInterval = TimeSpan.FromSeconds(3) },
                new SseItem<Token>(new Token("a\nb \"c\"", 1)),
            ]),
            completion: "[DONE]")));

        using var response = await app.GetStreamAsync("/sse");
        var body = await response.Content.ReadAsStringAsync().WaitAsync(StreamingEventReader.DefaultTimeout);

        Assert.Equal(
            "id: 1\nevent: token\nretry: 3000\ndata: {\"content\":\"Hi\",\"index\":0}\n\n"
            + "data: {\"content\":\"a\\nb \\\"c\\\"\",\"index\":1}\n\n"
            + "data: [DONE]\n\n",
            body);
    }

    [Fact]
    public async Task Writer_RoundTripsThroughSseParser()
    {
        await using var app = await StreamingHost.StartAsync(static app => app.MapGet("/sse", static async (HttpContext context) =>
        {
            var writer = await EventStreamWriter.StartAsync(context.Response, cancellationToken: context.RequestAborted);
            await writer.WriteAsync("line one\r\nline two\rline three", eventType: "text", id: "a-1");
            await writer.WriteCommentAsync("between events");
            await writer.WriteAsync(new { n = 42, s = "é✓" }, id: "a-2", retry: TimeSpan.FromMilliseconds(1500));
            await writer.WriteItemAsync(new SseItem<string>("plain", "done"));
        }));

        using var response = await app.GetStreamAsync("/sse");
        var stream = await response.Content.ReadAsStreamAsync();
        var parser = SseParser.Create(stream, static (type, data) => Encoding.UTF8.GetString(data));
        var events = new List<SseItem<string>>();
        await foreach (var item in parser.EnumerateAsync().WithCancellation(new CancellationTokenSource(StreamingEventReader.DefaultTimeout).Token))
        {
            events.Add(item);
        }

        Assert.Equal(3, events.Count);
        Assert.Equal(("text", "a-1", "line one\nline two\nline three"), (events[0].EventType, events[0].EventId, events[0].Data));
        using var json = JsonDocument.Parse(events[1].Data);
        Assert.Equal(42, json.RootElement.GetProperty("n").GetInt32());
        Assert.Equal("é✓", json.RootElement.GetProperty("s").GetString());
        Assert.Equal(("message", "a-2", TimeSpan.FromMilliseconds(1500)), (events[1].EventType, events[1].EventId, events[1].ReconnectionInterval));
        Assert.Equal(("done", "plain"), (events[2].EventType, events[2].Data));
    }

    [Fact]
    public async Task Writer_LineBreakInEventType_Throws()
    {
        var thrown = new TaskCompletionSource<Exception?>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var app = await StreamingHost.StartAsync(app => app.MapGet("/sse", async (HttpContext context) =>
        {
            var writer = await EventStreamWriter.StartAsync(context.Response);
            try
            {
                await writer.WriteAsync("x", eventType: "evil\ndata: injected");
                thrown.SetResult(null);
            }
            catch (ArgumentException ex)
            {
                thrown.SetResult(ex);
            }
        }));

        using var response = await app.GetStreamAsync("/sse");
        var body = await response.Content.ReadAsStringAsync().WaitAsync(StreamingEventReader.DefaultTimeout);

        Assert.IsType<ArgumentException>(await thrown.Task.WaitAsync(StreamingEventReader.DefaultTimeout));
        Assert.DoesNotContain("injected", body);
    }

    private static async IAsyncEnumerable<T> Items<T>(T[] items, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        foreach (var item in items)
        {
            await Task.Yield();
            cancellationToken.ThrowIfCancellationRequested();
            yield return item;
        }
    }
}
