using System.IO.Pipelines;
using AiEdge.Middleware.Internal;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace AiEdge.Middleware.RateLimiting.Internal;

/// <summary>
/// A pass-through response body that shows every written byte to a <see cref="UsageScanner"/>. Nothing is held
/// back: each write and flush goes straight to the server, so event streams still flush event by event.
/// </summary>
internal sealed class UsageObservingBody(IHttpResponseBodyFeature inner, UsageScanner scanner) : WriteOnlyStream, IHttpResponseBodyFeature
{
    private PipeWriter? _writer;

    public Stream Stream => this;

    public PipeWriter Writer => _writer ??= PipeWriter.Create(this, new StreamPipeWriterOptions(minimumBufferSize: 4096, leaveOpen: true));

    public IHttpResponseBodyFeature Inner => inner;

    public void DisableBuffering() => inner.DisableBuffering();

    public Task StartAsync(CancellationToken cancellationToken = default) => inner.StartAsync(cancellationToken);

    public Task SendFileAsync(string path, long offset, long? count, CancellationToken cancellationToken = default)
        => SendFileFallback.SendFileAsync(this, path, offset, count, cancellationToken);

    public async Task CompleteAsync()
    {
        await FinishAsync();
        await inner.CompleteAsync();
    }

    /// <summary>Pushes anything the pipe writer still holds to the server.</summary>
    public async Task FinishAsync()
    {
        if (_writer is not null)
        {
            await _writer.FlushAsync();
        }
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        scanner.Observe(buffer);
        inner.Stream.Write(buffer);
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        scanner.Observe(buffer.Span);
        return inner.Stream.WriteAsync(buffer, cancellationToken);
    }

    public override void Flush() => inner.Stream.Flush();

    public override Task FlushAsync(CancellationToken cancellationToken) => inner.Stream.FlushAsync(cancellationToken);
}
