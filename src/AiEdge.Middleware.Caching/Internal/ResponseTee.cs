using Microsoft.AspNetCore.Http;

namespace AiEdge.Middleware.Internal;

/// <summary>
/// Stands in for the response body while the endpoint runs: every write goes to the client at once (never
/// buffered, so event streams stay live) and a copy is kept up to a limit. When a stale entry may replace a
/// server error, a response that starts with a 5xx status is swallowed instead of sent.
/// </summary>
internal sealed class ResponseTee(HttpContext context, Stream inner, long maxCopy, bool swallowServerErrors) : Stream
{
    private readonly PooledByteWriter _copy = new(4096);
    private bool _decided;

    /// <summary>Gets whether the response outgrew the copy limit (it was still sent in full).</summary>
    public bool Overflowed { get; private set; }

    /// <summary>Gets whether a 5xx response was swallowed (nothing reached the client).</summary>
    public bool Swallowed { get; private set; }

    /// <summary>Gets the copy of what was written.</summary>
    public PooledByteWriter Copy => _copy;

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    /// <summary>Decides whether the response is swallowed (the endpoint is starting it); with <paramref name="startOnly"/>, flushes nothing.</summary>
    public void Flush(bool startOnly)
    {
        Decide();
        if (!startOnly && !Swallowed)
        {
            inner.Flush();
        }
    }

    public override void Flush()
    {
        Decide();
        if (!Swallowed)
        {
            inner.Flush();
        }
    }

    public override Task FlushAsync(CancellationToken cancellationToken)
    {
        Decide();
        return Swallowed ? Task.CompletedTask : inner.FlushAsync(cancellationToken);
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        if (Keep(buffer))
        {
            inner.Write(buffer);
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        => Keep(buffer.Span) ? inner.WriteAsync(buffer, cancellationToken) : ValueTask.CompletedTask;

    /// <summary>Returns the pooled copy.</summary>
    public void Release() => _copy.Dispose();

    private bool Keep(ReadOnlySpan<byte> data)
    {
        Decide();
        if (Swallowed)
        {
            return false;
        }

        if (!Overflowed)
        {
            if (_copy.Length + (long)data.Length > maxCopy)
            {
                Overflowed = true;
            }
            else
            {
                _copy.Write(data);
            }
        }

        return true;
    }

    private void Decide()
    {
        if (!_decided)
        {
            _decided = true;
            Swallowed = swallowServerErrors && context.Response.StatusCode >= StatusCodes.Status500InternalServerError;
        }
    }
}
