using System.Net.WebSockets;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace AiEdge.Middleware.Streaming.Internal;

/// <summary>Hands out accepted WebSockets that close themselves after <c>AiEdge:Streaming:WebSockets:IdleTimeout</c> without traffic.</summary>
internal sealed class IdleTimeoutWebSocketFeature(IHttpWebSocketFeature inner, TimeSpan idleTimeout, TimeProvider time, ILogger logger)
    : IHttpWebSocketFeature, IDisposable
{
    private IdleTimeoutWebSocket? _socket;

    public bool IsWebSocketRequest => inner.IsWebSocketRequest;

    public async Task<WebSocket> AcceptAsync(WebSocketAcceptContext context)
    {
        var socket = await inner.AcceptAsync(context);
        _socket = new IdleTimeoutWebSocket(socket, idleTimeout, time, logger);
        return _socket;
    }

    public void Dispose() => _socket?.StopTimer();
}

/// <summary>A WebSocket that tracks its last message in either direction and closes itself when idle too long.</summary>
internal sealed class IdleTimeoutWebSocket : WebSocket
{
    private readonly WebSocket _inner;
    private readonly TimeSpan _idleTimeout;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ITimer _timer;
    private long _lastActivity;
    private int _closing;

    public IdleTimeoutWebSocket(WebSocket inner, TimeSpan idleTimeout, TimeProvider time, ILogger logger)
    {
        _inner = inner;
        _idleTimeout = idleTimeout;
        _time = time;
        _logger = logger;
        _lastActivity = time.GetTimestamp();
        _timer = time.CreateTimer(static state => ((IdleTimeoutWebSocket)state!).OnIdleCheck(), this, idleTimeout, Timeout.InfiniteTimeSpan);
    }

    public override WebSocketCloseStatus? CloseStatus => _inner.CloseStatus;

    public override string? CloseStatusDescription => _inner.CloseStatusDescription;

    public override WebSocketState State => _inner.State;

    public override string? SubProtocol => _inner.SubProtocol;

    public override void Abort() => _inner.Abort();

    public override Task CloseAsync(WebSocketCloseStatus closeStatus, string? statusDescription, CancellationToken cancellationToken)
        => _inner.CloseAsync(closeStatus, statusDescription, cancellationToken);

    public override Task CloseOutputAsync(WebSocketCloseStatus closeStatus, string? statusDescription, CancellationToken cancellationToken)
        => _inner.CloseOutputAsync(closeStatus, statusDescription, cancellationToken);

    public override void Dispose()
    {
        StopTimer();
        _inner.Dispose();
    }

    public override async Task<WebSocketReceiveResult> ReceiveAsync(ArraySegment<byte> buffer, CancellationToken cancellationToken)
    {
        var result = await _inner.ReceiveAsync(buffer, cancellationToken);
        Touch();
        return result;
    }

    public override async ValueTask<ValueWebSocketReceiveResult> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        var result = await _inner.ReceiveAsync(buffer, cancellationToken);
        Touch();
        return result;
    }

    public override Task SendAsync(ArraySegment<byte> buffer, WebSocketMessageType messageType, bool endOfMessage, CancellationToken cancellationToken)
    {
        Touch();
        return _inner.SendAsync(buffer, messageType, endOfMessage, cancellationToken);
    }

    public override ValueTask SendAsync(ReadOnlyMemory<byte> buffer, WebSocketMessageType messageType, bool endOfMessage, CancellationToken cancellationToken)
    {
        Touch();
        return _inner.SendAsync(buffer, messageType, endOfMessage, cancellationToken);
    }

    public override ValueTask SendAsync(ReadOnlyMemory<byte> buffer, WebSocketMessageType messageType, WebSocketMessageFlags messageFlags, CancellationToken cancellationToken)
    {
        Touch();
        return _inner.SendAsync(buffer, messageType, messageFlags, cancellationToken);
    }

    internal void StopTimer() => _timer.Dispose();

    private void Touch() => Volatile.Write(ref _lastActivity, _time.GetTimestamp());

    private void OnIdleCheck()
    {
        var idle = _time.GetElapsedTime(Volatile.Read(ref _lastActivity));
        if (idle < _idleTimeout)
        {
            _timer.Change(_idleTimeout - idle, Timeout.InfiniteTimeSpan);
            return;
        }

        if (_inner.State != WebSocketState.Open || Interlocked.Exchange(ref _closing, 1) != 0)
        {
            return;
        }

        StreamingMiddleware.Log.WebSocketIdle(_logger, idle.TotalSeconds);
        _ = CloseIdleAsync();
    }

    private async Task CloseIdleAsync()
    {
        try
        {
            // Starts the close handshake: the application's pending receive sees the peer's close answer.
            await _inner.CloseOutputAsync(WebSocketCloseStatus.EndpointUnavailable, "idle timeout", CancellationToken.None);
        }
        catch (Exception)
        {
            _inner.Abort();
        }
    }
}
