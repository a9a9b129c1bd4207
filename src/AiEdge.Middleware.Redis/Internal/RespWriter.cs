using System.Buffers;
using System.Buffers.Text;
using System.Text;

namespace AiEdge.Middleware.Redis.Internal;

/// <summary>Writes commands as RESP arrays of bulk strings, straight into the output buffer.</summary>
internal static class RespWriter
{
    private static ReadOnlySpan<byte> CrLf => "\r\n"u8;

    /// <summary>Writes <paramref name="command"/> followed by <paramref name="args"/>.</summary>
    public static void WriteCommand(IBufferWriter<byte> writer, string command, ReadOnlySpan<RedisArg> args)
    {
        WriteHeader(writer, (byte)'*', args.Length + 1);
        WriteString(writer, command);
        WriteArgs(writer, args);
    }

    /// <summary>Writes each of <paramref name="args"/> as a bulk string (the keys and arguments after <see cref="WriteScriptHeader"/>).</summary>
    public static void WriteArgs(IBufferWriter<byte> writer, ReadOnlySpan<RedisArg> args)
    {
        foreach (var arg in args)
        {
            WriteArg(writer, arg);
        }
    }

    /// <summary>
    /// Writes the start of an <c>EVALSHA</c>/<c>EVAL</c> command whose <paramref name="argumentCount"/> keys and
    /// arguments the caller writes next, each as a bulk string (<see cref="WriteBulkInteger"/>, <see cref="WriteHeader"/>).
    /// </summary>
    public static void WriteScriptHeader(IBufferWriter<byte> writer, string command, string scriptOrSha, int keyCount, int argumentCount)
    {
        WriteHeader(writer, (byte)'*', argumentCount + 3);
        WriteString(writer, command);
        WriteString(writer, scriptOrSha);
        WriteInteger(writer, keyCount);
    }

    /// <summary>Writes an integer as a bulk string (<c>$3\r\n120\r\n</c>).</summary>
    public static void WriteBulkInteger(IBufferWriter<byte> writer, long value) => WriteInteger(writer, value);

    /// <summary>Writes an empty bulk string (<c>$0\r\n\r\n</c>).</summary>
    public static void WriteEmpty(IBufferWriter<byte> writer) => writer.Write("$0\r\n\r\n"u8);

    private static void WriteArg(IBufferWriter<byte> writer, in RedisArg arg)
    {
        switch (arg.Reference)
        {
            case string text:
                WriteString(writer, text);
                break;
            case byte[] bytes:
                WriteBytes(writer, bytes);
                break;
            case RedisArg.MemoryMarker:
                WriteBytes(writer, arg.Memory.Span);
                break;
            default:
                WriteInteger(writer, arg.Integer);
                break;
        }
    }

    private static void WriteString(IBufferWriter<byte> writer, string text)
    {
        var length = Encoding.UTF8.GetByteCount(text);
        WriteHeader(writer, (byte)'$', length);
        var span = writer.GetSpan(length + 2);
        var written = Encoding.UTF8.GetBytes(text, span);
        CrLf.CopyTo(span[written..]);
        writer.Advance(written + 2);
    }

    private static void WriteBytes(IBufferWriter<byte> writer, ReadOnlySpan<byte> bytes)
    {
        WriteHeader(writer, (byte)'$', bytes.Length);
        writer.Write(bytes);
        writer.Write(CrLf);
    }

    private static void WriteInteger(IBufferWriter<byte> writer, long value)
    {
        Span<byte> digits = stackalloc byte[20];
        Utf8Formatter.TryFormat(value, digits, out var count);
        WriteHeader(writer, (byte)'$', count);
        var span = writer.GetSpan(count + 2);
        digits[..count].CopyTo(span);
        CrLf.CopyTo(span[count..]);
        writer.Advance(count + 2);
    }

    /// <summary>Writes a RESP header: <paramref name="prefix"/> (<c>*</c> array, <c>$</c> bulk string), the length, CRLF.</summary>
    public static void WriteHeader(IBufferWriter<byte> writer, byte prefix, int length)
    {
        var span = writer.GetSpan(24);
        span[0] = prefix;
        Utf8Formatter.TryFormat(length, span[1..], out var count);
        span[count + 1] = (byte)'\r';
        span[count + 2] = (byte)'\n';
        writer.Advance(count + 3);
    }
}
