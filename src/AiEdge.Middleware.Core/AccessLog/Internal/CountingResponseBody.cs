using System.IO.Pipelines;
using AiEdge.Middleware.Internal;
using Microsoft.AspNetCore.Http.Features;

namespace AiEdge.Middleware.AccessLog.Internal;

/// <summary>
/// Wraps the server's <see cref="IHttpResponseBodyFeature"/> to count the body bytes the application sends (NGINX's
/// <c>$body_bytes_sent</c>), through the stream, the pipe writer or send-file alike. Pooled: one per in-flight request.
/// </summary>
internal sealed class CountingResponseBody : WriteOnlyStream, IHttpResponseBodyFeature
{
    private readonly CountingPipeWriter _writer;
    private IHttpResponseBodyFeature _inner = null!;

    public CountingResponseBody() => _writer = new CountingPipeWriter(this);

    public long Bytes { get; internal set; }

    internal IHttpResponseBodyFeature Inner => _inner;

    public void Attach(IHttpResponseBodyFeature inner)
    {
        _inner = inner;
        Bytes = 0;
    }

    public void Detach() => _inner = null!;

    Stream IHttpResponseBodyFeature.Stream => this;

    PipeWriter IHttpResponseBodyFeature.Writer => _writer;

    public void DisableBuffering() => _inner.DisableBuffering();

    public Task StartAsync(CancellationToken cancellationToken = default) => _inner.StartAsync(cancellationToken);

    public Task SendFileAsync(string path, long offset, long? count, CancellationToken cancellationToken = default)
    {
        Bytes += count ?? Math.Max(0, new FileInfo(path).Length - offset);
        return _inner.SendFileAsync(path, offset, count, cancellationToken);
    }

    public Task CompleteAsync() => _inner.CompleteAsync();

    public override void Flush() => _inner.Stream.Flush();

    public override Task FlushAsync(CancellationToken cancellationToken) => _inner.Stream.FlushAsync(cancellationToken);

    public override void Write(byte[] buffer, int offset, int count)
    {
        _inner.Stream.Write(buffer, offset, count);
        Bytes += count;
    }

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        _inner.Stream.Write(buffer);
        Bytes += buffer.Length;
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        Bytes += count;
        return _inner.Stream.WriteAsync(buffer, offset, count, cancellationToken);
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        Bytes += buffer.Length;
        return _inner.Stream.WriteAsync(buffer, cancellationToken);
    }

    private sealed class CountingPipeWriter(CountingResponseBody owner) : PipeWriter
    {
        private PipeWriter Inner => owner.Inner.Writer;

        public override bool CanGetUnflushedBytes => Inner.CanGetUnflushedBytes;

        public override long UnflushedBytes => Inner.UnflushedBytes;

        public override void Advance(int bytes)
        {
            Inner.Advance(bytes);
            owner.Bytes += bytes;
        }

        public override Memory<byte> GetMemory(int sizeHint = 0) => Inner.GetMemory(sizeHint);

        public override Span<byte> GetSpan(int sizeHint = 0) => Inner.GetSpan(sizeHint);

        public override void CancelPendingFlush() => Inner.CancelPendingFlush();

        public override void Complete(Exception? exception = null) => Inner.Complete(exception);

        public override ValueTask CompleteAsync(Exception? exception = null) => Inner.CompleteAsync(exception);

        public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default) => Inner.FlushAsync(cancellationToken);

        public override ValueTask<FlushResult> WriteAsync(ReadOnlyMemory<byte> source, CancellationToken cancellationToken = default)
        {
            owner.Bytes += source.Length;
            return Inner.WriteAsync(source, cancellationToken);
        }
    }
}
