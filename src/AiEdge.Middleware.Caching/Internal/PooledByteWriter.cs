using AiEdge.Middleware.Internal;
using System.Buffers;
using System.Text;

namespace AiEdge.Middleware.Caching.Internal;

/// <summary>A growable byte buffer rented from <see cref="ArrayPool{T}.Shared"/>; dispose to return it.</summary>
internal sealed class PooledByteWriter : IBufferWriter<byte>, IDisposable
{
    private byte[] _buffer;
    private int _length;

    public PooledByteWriter(int initialCapacity = 1024)
    {
        _buffer = ArrayPool<byte>.Shared.Rent(Math.Max(256, initialCapacity));
    }

    public int Length => _length;

    /// <summary>Rents a buffer again after <see cref="Dispose"/>, so that one writer object can be reused.</summary>
    public void Reopen(int initialCapacity)
    {
        if (_buffer.Length == 0)
        {
            _buffer = ArrayPool<byte>.Shared.Rent(Math.Max(256, initialCapacity));
        }

        _length = 0;
    }

    public ReadOnlySpan<byte> WrittenSpan => _buffer.AsSpan(0, _length);

    public ReadOnlyMemory<byte> WrittenMemory => _buffer.AsMemory(0, _length);

    public void Advance(int count) => _length += count;

    /// <summary>Forgets what was written after <paramref name="length"/> bytes.</summary>
    public void Rewind(int length) => _length = length;

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsMemory(_length);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsSpan(_length);
    }

    public void Write(ReadOnlySpan<byte> data)
    {
        Ensure(data.Length);
        data.CopyTo(_buffer.AsSpan(_length));
        _length += data.Length;
    }

    public void Write(byte value)
    {
        Ensure(1);
        _buffer[_length++] = value;
    }

    public void WriteInt32(int value)
    {
        Ensure(4);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(_buffer.AsSpan(_length), value);
        _length += 4;
    }

    /// <summary>Writes <paramref name="value"/> as length-prefixed UTF-8.</summary>
    public void WriteString(string? value)
    {
        value ??= string.Empty;
        var max = Encoding.UTF8.GetMaxByteCount(value.Length);
        Ensure(max + 4);
        var written = Encoding.UTF8.GetBytes(value, _buffer.AsSpan(_length + 4));
        System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(_buffer.AsSpan(_length), written);
        _length += 4 + written;
    }

    /// <summary>Writes <paramref name="value"/> (valid UTF-16) as length-prefixed UTF-8.</summary>
    public void WriteUtf8Block(ReadOnlySpan<char> value)
    {
        Ensure(Encoding.UTF8.GetMaxByteCount(value.Length) + 4);
        var written = Encoding.UTF8.GetBytes(value, _buffer.AsSpan(_length + 4));
        System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(_buffer.AsSpan(_length), written);
        _length += 4 + written;
    }

    /// <summary>Writes <paramref name="value"/> as length-prefixed bytes.</summary>
    public void WriteBlock(ReadOnlySpan<byte> value)
    {
        WriteInt32(value.Length);
        Write(value);
    }

    public byte[] ToArray() => WrittenSpan.ToArray();

    public void Dispose()
    {
        var buffer = _buffer;
        _buffer = [];
        _length = 0;
        if (buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private void Ensure(int sizeHint)
    {
        if (sizeHint < 1)
        {
            sizeHint = 1;
        }

        if (_buffer.Length - _length >= sizeHint)
        {
            return;
        }

        var size = Math.Max(_buffer.Length * 2, _length + sizeHint);
        var next = ArrayPool<byte>.Shared.Rent(size);
        _buffer.AsSpan(0, _length).CopyTo(next);
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = next;
    }
}
