using System.Net.WebSockets;
using System.Text;
using AiEdge.Middleware.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Time.Testing;

namespace AiEdge.Middleware.Streaming.Tests;

/// <summary>The WebSocket idle timeout, the in-app counterpart of a long proxy_read_timeout, over real Kestrel.</summary>
public sealed class WebSocketIntegrationTests
{
    [Fact]
    public async Task IdleWebSocket_ClosedAfterIdleTimeout_ActiveOneStaysOpen()
    {
        var time = new FakeTimeProvider(TestClock.Start);
        var serverSawClose = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var app = await StreamingHost.StartAsync(
            app => app.Map("/ws", async (HttpContext context) =>
            {
                using var socket = await context.WebSockets.AcceptWebSocketAsync();
                var buffer = new byte[1024];
                while (true)
                {
                    var received = await socket.ReceiveAsync(buffer, context.RequestAborted);
                    if (received.MessageType == WebSocketMessageType.Close)
                    {
                        serverSawClose.TrySetResult();
                        return;
                    }

                    await socket.SendAsync(buffer.AsMemory(0, received.Count), WebSocketMessageType.Text, true, context.RequestAborted);
                }
            }),
            time: time,
            configuration: new Dictionary<string, string?> { ["AiEdge:Streaming:WebSockets:IdleTimeout"] = "00:00:30" });

        using var client = new ClientWebSocket();
        using var timeout = new CancellationTokenSource(StreamingEventReader.DefaultTimeout);
        await client.ConnectAsync(new Uri("ws://" + app.BaseAddress.Authority + "/ws"), timeout.Token);

        Assert.Equal("hi", await EchoAsync(client, "hi", timeout.Token));
        time.Advance(TimeSpan.FromSeconds(29));
        Assert.Equal("again", await EchoAsync(client, "again", timeout.Token));

        // 30 s without a message in either direction: the server starts the close handshake.
        time.Advance(TimeSpan.FromSeconds(30));
        var buffer = new byte[1024];
        var result = await client.ReceiveAsync(buffer, timeout.Token);
        Assert.Equal(WebSocketMessageType.Close, result.MessageType);
        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, result.CloseStatus);
        await client.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token);
        await serverSawClose.Task.WaitAsync(timeout.Token);
    }

    [Fact]
    public async Task OrdinaryRequests_SkipTheWebSocketMiddleware_AHandshakeOnTheSameHostIsStillAccepted()
    {
        // Over real Kestrel, which offers every HTTP/1.1 request an upgrade: only a request that asks for one goes
        // through ASP.NET Core's WebSocket middleware (which otherwise sets a handshake feature on each of them).
        await using var app = await StreamingHost.StartAsync(app =>
        {
            app.MapGet("/plain", static (HttpContext context) => context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpWebSocketFeature>() is null ? "none" : "handshake feature");
            app.Map("/ws", static async (HttpContext context) =>
            {
                if (!context.WebSockets.IsWebSocketRequest)
                {
                    return;
                }

                using var socket = await context.WebSockets.AcceptWebSocketAsync();
                await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, context.RequestAborted);
            });
        });

        using var http = new HttpClient { BaseAddress = app.BaseAddress };
        Assert.Equal("none", await http.GetStringAsync("/plain"));

        using var client = new ClientWebSocket();
        using var timeout = new CancellationTokenSource(StreamingEventReader.DefaultTimeout);
        await client.ConnectAsync(new Uri("ws://" + app.BaseAddress.Authority + "/ws"), timeout.Token);
        var result = await client.ReceiveAsync(new byte[16], timeout.Token);
        Assert.Equal(WebSocketMessageType.Close, result.MessageType);
        Assert.Equal(WebSocketCloseStatus.NormalClosure, result.CloseStatus);
    }

    private static async Task<string> EchoAsync(ClientWebSocket client, string text, CancellationToken cancellationToken)
    {
        await client.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, cancellationToken);
        var buffer = new byte[1024];
        var result = await client.ReceiveAsync(buffer, cancellationToken);
        return Encoding.UTF8.GetString(buffer, 0, result.Count);
    }
}
