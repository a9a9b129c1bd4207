using System.Buffers;
using System.Buffers.Text;

namespace AiEdge.Middleware.Redis.Internal;

/// <summary>
/// Reads RESP2 replies from a possibly fragmented buffer. <see cref="TryRead"/> returns <see langword="false"/>
/// while a reply is incomplete, without consuming anything the caller keeps, so the caller can wait for more
/// bytes and retry; malformed input throws <see cref="InvalidDataException"/> (the connection is then dropped).
/// </summary>
internal static class RespParser
{
    /// <summary>The deepest nesting of arrays accepted.</summary>
    public const int MaxDepth = 32;

    /// <summary>The longest bulk string accepted (Redis's own proto-max-bulk-len default).</summary>
    public const int MaxBulkLength = 512 * 1024 * 1024;

    private static ReadOnlySpan<byte> CrLf => "\r\n"u8;

    /// <summary>Reads one complete reply, advancing <paramref name="reader"/> past it.</summary>
    /// <returns><see langword="false"/> when the buffer does not yet hold a complete reply.</returns>
    public static bool TryRead(ref SequenceReader<byte> reader, out RedisValue value) => TryReadCore(ref reader, out value, 0);

    private static bool TryReadCore(ref SequenceReader<byte> reader, out RedisValue value, int depth)
    {
        value = default;
        if (!reader.TryRead(out var prefix))
        {
            return false;
        }

        switch (prefix)
        {
            case (byte)'+':
            case (byte)'-':
                {
                    if (!reader.TryReadTo(out ReadOnlySequence<byte> line, CrLf))
                    {
                        return false;
                    }

                    if (prefix == (byte)'+')
                    {
                        value = line.IsSingleSegment ? RedisValue.SimpleString(line.FirstSpan) : RedisValue.SimpleString(line.ToArray());
                    }
                    else
                    {
                        value = RedisValue.Error(line.ToArray());
                    }

                    return true;
                }

            case (byte)':':
                {
                    if (!TryReadInteger(ref reader, out var integer))
                    {
                        return false;
                    }

                    value = RedisValue.FromInteger(integer);
                    return true;
                }

            case (byte)'$':
                {
                    if (!TryReadInteger(ref reader, out var length))
                    {
                        return false;
                    }

                    if (length == -1)
                    {
                        value = RedisValue.Null;
                        return true;
                    }

                    if (length < 0 || length > MaxBulkLength)
                    {
                        throw new InvalidDataException($"Invalid RESP bulk string length {length}.");
                    }

                    if (reader.Remaining < length + 2)
                    {
                        return false;
                    }

                    var bytes = length == 0 ? [] : GC.AllocateUninitializedArray<byte>((int)length);
                    reader.TryCopyTo(bytes);
                    reader.Advance(length);
                    if (!reader.IsNext(CrLf, advancePast: true))
                    {
                        throw new InvalidDataException("A RESP bulk string is not terminated by CRLF.");
                    }

                    value = RedisValue.Bulk(bytes);
                    return true;
                }

            case (byte)'*':
                {
                    if (!TryReadInteger(ref reader, out var count))
                    {
                        return false;
                    }

                    if (count == -1)
                    {
                        value = RedisValue.Null;
                        return true;
                    }

                    if (count < 0 || depth >= MaxDepth)
                    {
                        throw new InvalidDataException(count < 0 ? $"Invalid RESP array length {count}." : "RESP arrays are nested too deeply.");
                    }

                    // Every element takes at least 3 bytes (":0\r\n" is 4): do not allocate for elements not yet received.
                    if (count * 3 > reader.Remaining)
                    {
                        return false;
                    }

                    var items = count == 0 ? [] : new RedisValue[count];
                    for (var i = 0; i < items.Length; i++)
                    {
                        if (!TryReadCore(ref reader, out items[i], depth + 1))
                        {
                            return false;
                        }
                    }

                    value = RedisValue.Array(items);
                    return true;
                }

            default:
                throw new InvalidDataException($"Unexpected RESP type byte 0x{prefix:x2}.");
        }
    }

    private static bool TryReadInteger(ref SequenceReader<byte> reader, out long value)
    {
        value = 0;
        if (!reader.TryReadTo(out ReadOnlySequence<byte> line, CrLf))
        {
            return false;
        }

        if (line.Length is 0 or > 20)
        {
            throw new InvalidDataException("Invalid RESP integer.");
        }

        Span<byte> scratch = stackalloc byte[20];
        var span = line.IsSingleSegment ? line.FirstSpan : scratch[..(int)line.Length];
        if (!line.IsSingleSegment)
        {
            line.CopyTo(scratch);
        }

        if (!Utf8Parser.TryParse(span, out value, out var consumed) || consumed != span.Length)
        {
            throw new InvalidDataException("Invalid RESP integer.");
        }

        return true;
    }
}
