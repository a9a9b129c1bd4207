using System.Buffers;
using System.Globalization;
using System.Text;
using AiEdge.Middleware.Redis.Internal;

namespace AiEdge.Middleware.Redis.Tests;

/// <summary>A reference RESP2 encoder and helpers that cut a byte stream into fragments.</summary>
internal static class RespTestEncoding
{
    public static byte[] Encode(RedisValue value)
    {
        var output = new MemoryStream();
        Write(output, value);
        return output.ToArray();
    }

    private static void Write(MemoryStream output, RedisValue value)
    {
        switch (value.Type)
        {
            case RespType.Null:
                Ascii(output, "$-1\r\n");
                break;
            case RespType.SimpleString:
                Ascii(output, "+");
                output.Write(value.Bytes);
                Ascii(output, "\r\n");
                break;
            case RespType.Error:
                Ascii(output, "-");
                output.Write(value.Bytes);
                Ascii(output, "\r\n");
                break;
            case RespType.Integer:
                Ascii(output, ":" + value.Integer.ToString(CultureInfo.InvariantCulture) + "\r\n");
                break;
            case RespType.BulkString:
                Ascii(output, "$" + value.Bytes!.Length.ToString(CultureInfo.InvariantCulture) + "\r\n");
                output.Write(value.Bytes);
                Ascii(output, "\r\n");
                break;
            case RespType.Array:
                Ascii(output, "*" + value.Items!.Length.ToString(CultureInfo.InvariantCulture) + "\r\n");
                foreach (var item in value.Items)
                {
                    Write(output, item);
                }

                break;
        }
    }

    private static void Ascii(MemoryStream output, string text) => output.Write(Encoding.ASCII.GetBytes(text));

    /// <summary>Builds a sequence whose segments end at <paramref name="cuts"/> (offsets into <paramref name="data"/>).</summary>
    public static ReadOnlySequence<byte> Segmented(byte[] data, IEnumerable<int> cuts)
    {
        var points = cuts.Where(c => c > 0 && c < data.Length).Distinct().Order().ToList();
        points.Add(data.Length);
        Segment? first = null, last = null;
        var start = 0;
        foreach (var end in points)
        {
            var segment = new Segment(data.AsMemory(start, end - start));
            if (first is null)
            {
                first = last = segment;
            }
            else
            {
                last = last!.Append(segment);
            }

            start = end;
        }

        return new ReadOnlySequence<byte>(first!, 0, last!, last!.Memory.Length);
    }

    /// <summary>Feeds <paramref name="data"/> in fragments ending at <paramref name="cuts"/>, parsing after each
    /// as the connection does (only what has arrived, keeping unconsumed bytes), and returns every reply read.</summary>
    public static List<RedisValue> ParseIncrementally(byte[] data, IEnumerable<int> cuts)
    {
        var points = cuts.Where(c => c > 0 && c < data.Length).Distinct().Order().ToList();
        points.Add(data.Length);
        var replies = new List<RedisValue>();
        var consumed = 0;
        foreach (var end in points)
        {
            // Everything received and not consumed, split where the fragments arrived.
            var available = data.AsSpan(consumed, end - consumed).ToArray();
            var inner = points.Where(p => p > consumed && p < end).Select(p => p - consumed);
            var sequence = Segmented(available, inner);
            var reader = new SequenceReader<byte>(sequence);
            while (true)
            {
                var before = reader.Consumed;
                if (!RespParser.TryRead(ref reader, out var value))
                {
                    consumed += (int)before;
                    break;
                }

                replies.Add(value);
            }
        }

        if (consumed != data.Length)
        {
            throw new InvalidOperationException($"{data.Length - consumed} bytes were left unparsed.");
        }

        return replies;
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory) => Memory = memory;

        public Segment Append(Segment next)
        {
            next.RunningIndex = RunningIndex + Memory.Length;
            Next = next;
            return next;
        }
    }
}
