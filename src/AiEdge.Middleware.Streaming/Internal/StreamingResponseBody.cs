using System.IO.Pipelines;
using AiEdge.Middleware.Internal;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace AiEdge.Middleware.Streaming.Internal;

/// <summary>
/// The response body of one request under the streaming stage. Until the response starts it only watches; when it
/// starts as a stream (an event-stream content type, or any 2xx answer of a marked endpoint) it switches the
/// response to streaming (no buffering, no compression, anti-buffering headers, no timeout), flushes each complete
/// event, and lets a <see cref="HeartbeatScheduler"/> write heartbeat comments between events while the stream is
/// idle. Anything else passes through.
/// </summary>
/// <remarks>
/// <para>
/// Who writes when: a stream has one lock, <see cref="StreamState.Gate"/>, and every byte that reaches the inner
/// body is written by its holder. The application holds it for each write, flush, start, file send and the
/// completion, waiting for it; the heartbeat only takes it when it is free (<see cref="TryWriteHeartbeat"/> never
/// waits: a busy stream is not idle) and only between two events, so a heartbeat comment never lands inside an
/// event and never between two writes of the application that the lock serializes.
/// </para>
/// <para>
/// The end: completion and the end of the request (normal, exception or client abort) mark the stream closed,
/// stop the scheduler and then take the lock once, so a heartbeat that was being written is out (and its timer
/// released) before the response completes. A heartbeat due after that finds the stream closed and writes nothing.
/// </para>
/// </remarks>
internal sealed class StreamingResponseBody : WriteOnlyStream, IHttpResponseBodyFeature, IHeartbeatTarget
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

    // What only a stream needs, made when the response turns out to be one: a pass-through response (most
    // requests, when event streams are detected) carries none of it.
    private StreamState? _stream;

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

        var stream = _stream!;
        stream.Gate.Wait();
        try
        {
            // Observed before the bytes leave, so a client that has seen them knows the bookkeeping is done.
            var flush = Observe(stream, buffer);
            InnerStream.Write(buffer);
            if (flush)
            {
                InnerStream.Flush();
            }
        }
        finally
        {
            stream.Gate.Release();
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        Decide();
        return _mode == PassThrough ? InnerStream.WriteAsync(buffer, cancellationToken) : WriteStreamedAsync(_stream!, buffer, cancellationToken);
    }

    public override void Flush()
    {
        Decide();
        if (_mode == PassThrough)
        {
            InnerStream.Flush();
            return;
        }

        var stream = _stream!;
        stream.Gate.Wait();
        try
        {
            InnerStream.Flush();
        }
        finally
        {
            stream.Gate.Release();
        }
    }

    public override Task FlushAsync(CancellationToken cancellationToken)
    {
        Decide();
        return _mode == PassThrough ? InnerStream.FlushAsync(cancellationToken) : FlushStreamedAsync(_stream!, cancellationToken);
    }

    /// <summary>
    /// Ends the stream's bookkeeping when the request leaves the stage, however it leaves (normally, by an exception
    /// or because the client went away): stops the heartbeats and waits for one being written.
    /// </summary>
    public async ValueTask FinishAsync(bool clientDisconnected)
    {
        if (_stream is not { } stream)
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

        await CloseAsync(stream);
        stream.Gate.Release();
        clientDisconnected |= _context.RequestAborted.IsCancellationRequested;
        _owner.StreamEnded(_context, _owner.Time.GetElapsedTime(stream.StreamStart), clientDisconnected);
    }

    /// <summary>
    /// Called by the stream's <see cref="HeartbeatScheduler"/> when the stream has been silent for an interval:
    /// starts writing a heartbeat if the lock is free, the stream is between two events and still open.
    /// </summary>
    public HeartbeatAttempt TryWriteHeartbeat()
    {
        var stream = _stream!;
        if (stream.Closed || _context.RequestAborted.IsCancellationRequested)
        {
            return HeartbeatAttempt.Closed;
        }

        if (!stream.Gate.Wait(0))
        {
            return HeartbeatAttempt.NotNow;
        }

        // Checked again under the lock: the end of the stream and every write of the application take it.
        if (stream.Closed)
        {
            stream.Gate.Release();
            return HeartbeatAttempt.Closed;
        }

        if (!stream.Boundary.AtBoundary)
        {
            stream.Gate.Release();
            return HeartbeatAttempt.NotNow;
        }

        _ = WriteHeartbeatAsync(stream);
        return HeartbeatAttempt.Writing;
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
        var stream = new StreamState(_owner.Time.GetTimestamp());
        _stream = stream;
        _mode = mode;
        _owner.StreamStarted(_context, mode == EventStream);

        if (mode == EventStream)
        {
            var interval = _metadata?.HeartbeatInterval ?? _owner.HeartbeatInterval;
            if (interval > TimeSpan.Zero)
            {
                stream.Heartbeats = new HeartbeatScheduler(_owner.Time, interval, this, stream.StreamStart);
            }
        }
    }

    /// <summary>Records output (under the lock); returns whether to flush now (the write ends an event, or the stream is not SSE).</summary>
    private bool Observe(StreamState stream, ReadOnlySpan<byte> buffer)
    {
        if (buffer.IsEmpty)
        {
            return false;
        }

        var now = _owner.Time.GetTimestamp();
        stream.Heartbeats?.OutputAt(now);
        if (!_firstOutputSeen)
        {
            _firstOutputSeen = true;
            _owner.Metrics.TimeToFirstEvent(_owner.Time.GetElapsedTime(_requestStart, now).TotalSeconds);
        }

        if (_mode != EventStream)
        {
            return true;
        }

        stream.Boundary.Observe(buffer);
        return stream.Boundary.AtBoundary;
    }

    private async ValueTask WriteStreamedAsync(StreamState stream, ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken)
    {
        await stream.Gate.WaitAsync(cancellationToken);
        try
        {
            // Observed before the bytes leave, so a client that has seen them knows the bookkeeping is done.
            var flush = Observe(stream, buffer.Span);
            await InnerStream.WriteAsync(buffer, cancellationToken);
            if (flush)
            {
                await InnerStream.FlushAsync(cancellationToken);
            }
        }
        finally
        {
            stream.Gate.Release();
        }
    }

    private async Task FlushStreamedAsync(StreamState stream, CancellationToken cancellationToken)
    {
        await stream.Gate.WaitAsync(cancellationToken);
        try
        {
            await InnerStream.FlushAsync(cancellationToken);
        }
        finally
        {
            stream.Gate.Release();
        }
    }

    private async Task StartStreamAsync(CancellationToken cancellationToken)
    {
        var stream = _stream!;
        await stream.Gate.WaitAsync(cancellationToken);
        try
        {
            await _inner.StartAsync(cancellationToken);

            // Send the headers now: a client (and any proxy) sees the stream open before the first event.
            await InnerStream.FlushAsync(cancellationToken);
        }
        finally
        {
            stream.Gate.Release();
        }
    }

    private async Task SendFileStreamedAsync(string path, long offset, long? count, CancellationToken cancellationToken)
    {
        var stream = _stream!;
        await stream.Gate.WaitAsync(cancellationToken);
        try
        {
            await _inner.SendFileAsync(path, offset, count, cancellationToken);
            await InnerStream.FlushAsync(cancellationToken);
            stream.Heartbeats?.OutputAt(_owner.Time.GetTimestamp());
        }
        finally
        {
            stream.Gate.Release();
        }
    }

    private async Task CompleteStreamAsync()
    {
        var stream = _stream!;
        if (_pipeWriter is not null)
        {
            await _pipeWriter.CompleteAsync();
        }

        await CloseAsync(stream);
        try
        {
            await _inner.CompleteAsync();
        }
        finally
        {
            stream.Gate.Release();
        }
    }

    /// <summary>
    /// Marks the stream closed, stops its heartbeats and takes the lock, which the caller releases: once it has it,
    /// no heartbeat is being written and none will be. Safe to call more than once.
    /// </summary>
    private static Task CloseAsync(StreamState stream)
    {
        stream.Closed = true;
        stream.Heartbeats?.Dispose();
        return stream.Gate.WaitAsync(CancellationToken.None);
    }

    private static Task RemoveIdentityEncoding(HttpResponse response)
    {
        if (string.Equals(response.Headers.ContentEncoding, "identity", StringComparison.OrdinalIgnoreCase))
        {
            response.Headers.ContentEncoding = default;
        }

        return Task.CompletedTask;
    }

    /// <summary>Writes one heartbeat; runs holding the lock (taken by <see cref="TryWriteHeartbeat"/>) and releases it.</summary>
    private async Task WriteHeartbeatAsync(StreamState stream)
    {
        var stop = false;
        try
        {
            var aborted = _context.RequestAborted;
            stream.Boundary.Observe(HeartbeatBytes);
            stream.Heartbeats!.OutputAt(_owner.Time.GetTimestamp());
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
            // The scheduler re-arms (or releases) its timer before the lock is free: whoever ends the stream next
            // finds the timer settled.
            stream.Heartbeats!.HeartbeatWritten(stop);
            stream.Gate.Release();
        }
    }

    /// <summary>The state of a response that turned out to be a stream.</summary>
    private sealed class StreamState(long streamStart)
    {
        /// <summary>The one lock of the stream: its holder is the only writer of the inner body.</summary>
        public readonly SemaphoreSlim Gate = new(1, 1);

        /// <summary>When the stream started.</summary>
        public readonly long StreamStart = streamStart;

        /// <summary>The heartbeats of an event stream; <see langword="null"/> for another stream or with heartbeats off.</summary>
        public HeartbeatScheduler? Heartbeats;

        /// <summary>Where the event stream stands relative to event boundaries; changed only under <see cref="Gate"/>.</summary>
        public EventBoundary Boundary;

        /// <summary>Whether the stream completed or the request ended; set before the end takes <see cref="Gate"/>.</summary>
        public volatile bool Closed;
    }
}
