using AiEdge.Middleware.Internal;
using System.Buffers;

namespace AiEdge.Middleware.Caching.Internal;

/// <summary>
/// The request body after the cache read it: the bytes already read (from a pooled buffer), then whatever the
/// original stream still holds. The endpoint reads it as if nothing had happened.
/// </summary>
internal sealed class BufferedRequestBody(byte[] buffer, int length, Stream? rest) : Stream
{
    private int _position;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    /// <summary>
    /// Reads the original body into a pooled buffer, up to <paramref name="limit"/> bytes (one more tells it is larger);
    /// a body with a declared <paramref name="contentLength"/> ends when that many bytes are read.
    /// </summary>
    /// <returns>The buffer (return it to the pool), the bytes read, and whether the body ended within the limit.</returns>
    public static async ValueTask<(byte[] Buffer, int Length, bool Complete)> ReadAsync(Stream body, long? contentLength, int limit, CancellationToken cancellationToken)
    {
        var initial = contentLength is { } known && known <= limit ? (int)known + 1 : 4096;
        var buffer = ArrayPool<byte>.Shared.Rent(Math.Min(initial, limit + 1));
        var length = 0;
        try
        {
            while (true)
            {
                if (length == buffer.Length)
                {
                    if (length > limit)
                    {
                        return (buffer, length, false);
                    }

                    var larger = ArrayPool<byte>.Shared.Rent(Math.Min(buffer.Length * 2, limit + 1));
                    buffer.AsSpan(0, length).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }

                var read = await body.ReadAsync(buffer.AsMemory(length, Math.Min(buffer.Length, limit + 1) - length), cancellationToken);
                if (read == 0)
                {
                    return (buffer, length, true);
                }

                length += read;
                if (length > limit)
                {
                    return (buffer, length, false);
                }

                // The declared length is the body (the server frames it so): no further read to see its end.
                if (length == contentLength)
                {
                    return (buffer, length, true);
                }
            }
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
    }

    public override void Flush()
    {
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> destination)
    {
        if (_position < length)
        {
            var count = Math.Min(destination.Length, length - _position);
            buffer.AsSpan(_position, count).CopyTo(destination);
            _position += count;
            return count;
        }

        return rest?.Read(destination) ?? 0;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override ValueTask<int> ReadAsync(Memory<byte> destination, CancellationToken cancellationToken = default)
    {
        if (_position < length)
        {
            var count = Math.Min(destination.Length, length - _position);
            buffer.AsSpan(_position, count).CopyTo(destination.Span);
            _position += count;
            return ValueTask.FromResult(count);
        }

        return rest?.ReadAsync(destination, cancellationToken) ?? ValueTask.FromResult(0);
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
