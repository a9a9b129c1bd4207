using System.IO.Pipelines;
using AiEdge.Middleware.Internal;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace AiEdge.Middleware.Streaming.Internal;

/// <summary>
/// The response body of one request under the streaming stage. Until the response starts it only watches; when it
/// starts as a stream (an event-stream content type, or any 2xx answer of a marked endpoint) it switches the
/// response to streaming (no buffering, no compression, anti-buffering headers, no timeout), flushes each complete
/// event, and writes heartbeat comments between events while the stream is idle. Anything else passes through.
/// </summary>
internal sealed class StreamingResponseBody : WriteOnlyStream, IHttpResponseBodyFeature
{
    private const int Undecided = 0;
    private const int PassThrough = 1;
    private const int RawStream = 2;
    private const int EventStream = 3;

    private static readonly byte[] HeartbeatBytes = ": keep-alive\n\n"u8.ToArray();

    private readonly HttpContext _context;
    private readonly IHttpResponseBodyFeature _inner;
    private readonly StreamingMiddleware _owner;
    private readonly IStreamingMetadata? _metadata;
    private readonly long _requestStart;
    private Stream? _innerStream;
    private PipeWriter? _pipeWriter;
    private int _mode;
    private bool _bufferingDisableRequested;
    private bool _firstOutputSeen;
    private volatile bool _closed;

    // What only a stream needs, made when the response turns out to be one: a pass-through response (most
    // requests, when event streams are detected) carries none of it.
    private LiveState? _live;

    public StreamingResponseBody(HttpContext context, IHttpResponseBodyFeature inner, StreamingMiddleware owner, IStreamingMetadata? metadata, long requestStart)
    {
        _context = context;
        _inner = inner;
        _owner = owner;
        _metadata = metadata;
        _requestStart = requestStart;
    }

    /// <summary>Gets whether the response was treated as a stream.</summary>
    public bool IsStreaming => _mode >= RawStream;

    /// <summary>Gets whether the response was treated as an event stream (heartbeats possible).</summary>
    public bool IsEventStream => _mode == EventStream;

    private Stream InnerStream => _innerStream ??= _inner.Stream;

    // IHttpResponseBodyFeature

    Stream IHttpResponseBodyFeature.Stream => this;

    PipeWriter IHttpResponseBodyFeature.Writer
    {
        get
        {
            Decide();
            return _mode == PassThrough
                ? _inner.Writer
                : _pipeWriter ??= PipeWriter.Create(this, new StreamPipeWriterOptions(leaveOpen: true));
        }
    }

    void IHttpResponseBodyFeature.DisableBuffering()
    {
        if (_mode == Undecided)
        {
            // Deciding now could be too early (no content type yet); let the start of the response apply it.
            _bufferingDisableRequested = true;
        }
        else if (_mode == PassThrough)
        {
            _inner.DisableBuffering();
        }
    }

    Task IHttpResponseBodyFeature.StartAsync(CancellationToken cancellationToken)
    {
        Decide();
        return _mode == PassThrough ? _inner.StartAsync(cancellationToken) : StartStreamAsync(cancellationToken);
    }

    Task IHttpResponseBodyFeature.SendFileAsync(string path, long offset, long? count, CancellationToken cancellationToken)
    {
        Decide();
        return _mode == PassThrough ? _inner.SendFileAsync(path, offset, count, cancellationToken) : SendFileStreamedAsync(path, offset, count, cancellationToken);
    }

    Task IHttpResponseBodyFeature.CompleteAsync()
    {
        Decide();
        return _mode == PassThrough ? _inner.CompleteAsync() : CompleteStreamAsync();
    }

    // Stream

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        Decide();
        if (_mode == PassThrough)
        {
            InnerStream.Write(buffer);
            return;
        }

        _live!.Gate.Wait();
        try
        {
            // Observed before the bytes leave, so a client that has seen them knows the bookkeeping is done.
            var flush = Observe(buffer);
            InnerStream.Write(buffer);
            if (flush)
            {
                InnerStream.Flush();
            }
        }
        finally
        {
            _live!.Gate.Release();
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        Decide();
        return _mode == PassThrough ? InnerStream.WriteAsync(buffer, cancellationToken) : WriteStreamedAsync(buffer, cancellationToken);
    }

    public override void Flush()
    {
        Decide();
        if (_mode == PassThrough)
        {
            InnerStream.Flush();
            return;
        }

        _live!.Gate.Wait();
        try
        {
            InnerStream.Flush();
        }
        finally
        {
            _live!.Gate.Release();
        }
    }

    public override Task FlushAsync(CancellationToken cancellationToken)
    {
        Decide();
        return _mode == PassThrough ? InnerStream.FlushAsync(cancellationToken) : FlushStreamedAsync(cancellationToken);
    }

    /// <summary>Ends the stream's bookkeeping when the request leaves the stage; waits for a heartbeat being written.</summary>
    public async ValueTask FinishAsync(bool clientDisconnected)
    {
        if (!IsStreaming)
        {
            return;
        }

        if (_pipeWriter is not null && !clientDisconnected)
        {
            try
            {
                await _pipeWriter.CompleteAsync();
            }
            catch (Exception ex) when (_context.RequestAborted.IsCancellationRequested && StreamingMiddleware.IsDisconnect(ex))
            {
                clientDisconnected = true;
            }
        }

        StopHeartbeats();
        await _live!.Gate.WaitAsync(CancellationToken.None);
        _live!.Gate.Release();
        clientDisconnected |= _context.RequestAborted.IsCancellationRequested;
        _owner.StreamEnded(_context, _owner.Time.GetElapsedTime(_live!.StreamStart), clientDisconnected);
    }

    private void Decide()
    {
        if (_mode != Undecided)
        {
            return;
        }

        var response = _context.Response;
        var contentType = response.ContentType;
        if (MediaTypes.Is(contentType, MediaTypes.EventStream))
        {
            Activate(EventStream);
        }
        else if (_owner.IsAdditionalContentType(contentType) || (_metadata is not null && response.StatusCode is >= 200 and < 300))
        {
            Activate(RawStream);
        }
        else
        {
            _mode = PassThrough;
            if (_bufferingDisableRequested)
            {
                _inner.DisableBuffering();
            }
        }
    }

    private void Activate(int mode)
    {
        _owner.PrepareResponse(_context);
        if (!_context.Response.HasStarted)
        {
            // TypedResults.ServerSentEvents marks its answer "Content-Encoding: identity" to keep compression away;
            // compression is kept away here already, and identity is not a content coding to send (RFC 9110 8.4.1).
            _context.Response.OnStarting(static state => RemoveIdentityEncoding((HttpResponse)state), _context.Response);
        }

        _inner.DisableBuffering();
        _live = new LiveState();
        _live!.StreamStart = _owner.Time.GetTimestamp();
        _live!.LastOutput = _live!.StreamStart;
        _mode = mode;
        _owner.StreamStarted(_context, mode == EventStream);

        if (mode == EventStream)
        {
            _live!.HeartbeatInterval = _metadata?.HeartbeatInterval ?? _owner.HeartbeatInterval;
            if (_live!.HeartbeatInterval > TimeSpan.Zero)
            {
                _live!.Heartbeat = _owner.Time.CreateTimer(static state => ((StreamingResponseBody)state!).OnHeartbeatDue(), this, _live!.HeartbeatInterval, Timeout.InfiniteTimeSpan);
            }
        }
    }

    /// <summary>Records output; returns whether to flush now (the write ends an event, or the stream is not SSE).</summary>
    private bool Observe(ReadOnlySpan<byte> buffer)
    {
        if (buffer.IsEmpty)
        {
            return false;
        }

        var now = _owner.Time.GetTimestamp();
        Volatile.Write(ref _live!.LastOutput, now);
        if (!_firstOutputSeen)
        {
            _firstOutputSeen = true;
            _owner.Metrics.TimeToFirstEvent(_owner.Time.GetElapsedTime(_requestStart, now).TotalSeconds);
        }

        if (_mode != EventStream)
        {
            return true;
        }

        _live!.Boundary.Observe(buffer);
        return _live!.Boundary.AtBoundary;
    }

    private async ValueTask WriteStreamedAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken)
    {
        await _live!.Gate.WaitAsync(cancellationToken);
        try
        {
            // Observed before the bytes leave, so a client that has seen them knows the bookkeeping is done.
            var flush = Observe(buffer.Span);
            await InnerStream.WriteAsync(buffer, cancellationToken);
            if (flush)
            {
                await InnerStream.FlushAsync(cancellationToken);
            }
        }
        finally
        {
            _live!.Gate.Release();
        }
    }

    private async Task FlushStreamedAsync(CancellationToken cancellationToken)
    {
        await _live!.Gate.WaitAsync(cancellationToken);
        try
        {
            await InnerStream.FlushAsync(cancellationToken);
        }
        finally
        {
            _live!.Gate.Release();
        }
    }

    private async Task StartStreamAsync(CancellationToken cancellationToken)
    {
        await _live!.Gate.WaitAsync(cancellationToken);
        try
        {
            await _inner.StartAsync(cancellationToken);

            // Send the headers now: a client (and any proxy) sees the stream open before the first event.
            await InnerStream.FlushAsync(cancellationToken);
        }
        finally
        {
            _live!.Gate.Release();
        }
    }

    private async Task SendFileStreamedAsync(string path, long offset, long? count, CancellationToken cancellationToken)
    {
        await _live!.Gate.WaitAsync(cancellationToken);
        try
        {
            await _inner.SendFileAsync(path, offset, count, cancellationToken);
            await InnerStream.FlushAsync(cancellationToken);
            Volatile.Write(ref _live!.LastOutput, _owner.Time.GetTimestamp());
        }
        finally
        {
            _live!.Gate.Release();
        }
    }

    private async Task CompleteStreamAsync()
    {
        if (_pipeWriter is not null)
        {
            await _pipeWriter.CompleteAsync();
        }

        StopHeartbeats();
        await _live!.Gate.WaitAsync(CancellationToken.None);
        try
        {
            await _inner.CompleteAsync();
        }
        finally
        {
            _live!.Gate.Release();
        }
    }

    private static Task RemoveIdentityEncoding(HttpResponse response)
    {
        if (string.Equals(response.Headers.ContentEncoding, "identity", StringComparison.OrdinalIgnoreCase))
        {
            response.Headers.ContentEncoding = default;
        }

        return Task.CompletedTask;
    }

    private void StopHeartbeats()
    {
        _closed = true;
        _live?.Heartbeat?.Dispose();
    }

    private void OnHeartbeatDue()
    {
        if (_closed)
        {
            return;
        }

        var interval = _live!.HeartbeatInterval;
        var idle = _owner.Time.GetElapsedTime(Volatile.Read(ref _live!.LastOutput));
        if (idle < interval)
        {
            _live!.Heartbeat?.Change(interval - idle, Timeout.InfiniteTimeSpan);
            return;
        }

        // Busy: the application is writing right now, so the stream is not idle.
        if (!_live!.Gate.Wait(0))
        {
            _live!.Heartbeat?.Change(interval, Timeout.InfiniteTimeSpan);
            return;
        }

        if (_closed || !_live!.Boundary.AtBoundary || _context.RequestAborted.IsCancellationRequested)
        {
            _live!.Gate.Release();
            _live!.Heartbeat?.Change(interval, Timeout.InfiniteTimeSpan);
            return;
        }

        _ = WriteHeartbeatAsync();
    }

    private async Task WriteHeartbeatAsync()
    {
        var stop = false;
        try
        {
            var aborted = _context.RequestAborted;
            _live!.Boundary.Observe(HeartbeatBytes);
            Volatile.Write(ref _live!.LastOutput, _owner.Time.GetTimestamp());
            _owner.Metrics.Heartbeat();
            await InnerStream.WriteAsync(HeartbeatBytes, aborted);
            await InnerStream.FlushAsync(aborted);
        }
        catch (Exception ex)
        {
            // The client went away (or the response ended) between two events: stop beating, the request ends anyway.
            stop = true;
            _owner.HeartbeatFailed(_context, ex);
        }
        finally
        {
            _live!.Gate.Release();
        }

        if (!stop && !_closed)
        {
            _live!.Heartbeat?.Change(_live!.HeartbeatInterval, Timeout.InfiniteTimeSpan);
        }
    }

    private sealed class LiveState
    {
        public readonly SemaphoreSlim Gate = new(1, 1);

        public ITimer? Heartbeat;

        public TimeSpan HeartbeatInterval;

        public EventBoundary Boundary;

        public long LastOutput;

        public long StreamStart;
    }
}
