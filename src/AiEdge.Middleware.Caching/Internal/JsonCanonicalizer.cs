using System.Buffers;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace AiEdge.Middleware.Internal;

/// <summary>
/// Writes a canonical form of a JSON document for hashing: object members sorted by name, insignificant whitespace
/// gone, string escapes decoded, configured top-level members left out. Two documents that differ only in member
/// order or whitespace give the same bytes. Numbers are kept as written (<c>1</c> and <c>1.0</c> differ).
/// </summary>
internal static class JsonCanonicalizer
{
    private const byte ObjectStart = (byte)'{';
    private const byte ArrayStart = (byte)'[';
    private const byte End = (byte)'}';
    private const byte StringTag = (byte)'s';
    private const byte NumberTag = (byte)'n';

    // One delegate for every sort (sorting with an IComparer would allocate one per call).
    private static readonly Comparison<Member> CompareNames = static (x, y) => x.QuotedName.Span[1..^1].SequenceCompareTo(y.QuotedName.Span[1..^1]);

    private static readonly JsonReaderOptions ReaderOptions = new() { AllowTrailingCommas = false, CommentHandling = JsonCommentHandling.Disallow, MaxDepth = 64 };

    /// <summary>Writes the canonical form of <paramref name="json"/>; <see langword="false"/> when it is not valid JSON.</summary>
    /// <remarks>Reads with <see cref="Utf8JsonReader"/> (nothing allocated per document) in one pass that validates
    /// every token as it goes; what was written is taken back when the document turns out not to be valid JSON.</remarks>
    public static bool TryWrite(ReadOnlyMemory<byte> json, PooledByteWriter writer, byte[][] excludedTopLevel)
    {
        var start = writer.Length;
        try
        {
            var reader = new Utf8JsonReader(json.Span, ReaderOptions);
            if (reader.Read())
            {
                Write(ref reader, json, 0, writer, excludedTopLevel);

                // The reader reads the whole input as its final block: anything after the value throws here.
                if (!reader.Read())
                {
                    return true;
                }
            }
        }
        catch (JsonException)
        {
            // Invalid JSON is the client's business (the endpoint answers it); the cache only needs to know.
        }
        catch (InvalidOperationException)
        {
            // Well-formed JSON whose string escapes are not valid UTF-16 (a lone surrogate such as "\ud800"):
            // the reader validates the syntax only, so unescaping is where it shows. Treated as not JSON.
        }

        writer.Rewind(start);
        return false;
    }

    /// <summary>Writes the value at the reader (which reads <paramref name="json"/> from <paramref name="offset"/>) and leaves the reader on its last token.</summary>
    private static void Write(ref Utf8JsonReader reader, ReadOnlyMemory<byte> json, int offset, PooledByteWriter writer, byte[][]? excluded)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.StartObject:
                WriteObject(ref reader, json, offset, writer, excluded);
                break;
            case JsonTokenType.StartArray:
                writer.Write(ArrayStart);
                var count = 0;
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    Write(ref reader, json, offset, writer, null);
                    count++;
                }

                writer.Write(End);
                writer.WriteInt32(count);
                break;
            case JsonTokenType.String:
                writer.Write(StringTag);
                if (reader.ValueIsEscaped)
                {
                    writer.WriteString(reader.GetString());
                }
                else
                {
                    writer.WriteBlock(reader.ValueSpan);
                }

                break;
            case JsonTokenType.Number:
                writer.Write(NumberTag);
                writer.WriteBlock(reader.ValueSpan);
                break;
            case JsonTokenType.True:
                writer.Write((byte)'t');
                break;
            case JsonTokenType.False:
                writer.Write((byte)'f');
                break;
            default:
                writer.Write((byte)'z');
                break;
        }
    }

    private static void WriteObject(ref Utf8JsonReader reader, ReadOnlyMemory<byte> json, int offset, PooledByteWriter writer, byte[][]? excluded)
    {
        var members = ArrayPool<Member>.Shared.Rent(16);
        var count = 0;
        try
        {
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                // The token starts at the opening quote; the raw (still escaped) name follows it.
                var nameStart = offset + (int)reader.TokenStartIndex;
                var quotedName = json.Slice(nameStart, reader.ValueSpan.Length + 2);
                var escaped = reader.ValueIsEscaped;
                reader.Read();
                var valueType = reader.TokenType;
                var valueEscaped = reader.ValueIsEscaped;
                var valueStart = (int)reader.TokenStartIndex;
                reader.Skip();
                var valueOffset = offset + valueStart;
                var value = json.Slice(valueOffset, (int)reader.BytesConsumed - valueStart);
                if (excluded is not null && IsExcluded(quotedName.Span[1..^1], excluded))
                {
                    continue;
                }

                if (count == members.Length)
                {
                    var larger = ArrayPool<Member>.Shared.Rent(count * 2);
                    Array.Copy(members, larger, count);
                    ArrayPool<Member>.Shared.Return(members, clearArray: true);
                    members = larger;
                }

                members[count++] = new Member(quotedName, escaped, value, valueOffset, valueType, valueEscaped);
            }

            members.AsSpan(0, count).Sort(CompareNames);
            writer.Write(ObjectStart);
            for (var i = 0; i < count; i++)
            {
                var member = members[i];
                WriteName(member, writer);
                if (!TryWriteScalar(member, writer))
                {
                    var valueReader = new Utf8JsonReader(member.Value.Span, ReaderOptions);
                    valueReader.Read();
                    Write(ref valueReader, json, member.ValueOffset, writer, null);
                }
            }

            writer.Write(End);
            writer.WriteInt32(count);
        }
        finally
        {
            ArrayPool<Member>.Shared.Return(members, clearArray: true);
        }
    }

    private static bool IsExcluded(ReadOnlySpan<byte> name, byte[][] excluded)
    {
        foreach (var candidate in excluded)
        {
            if (name.SequenceEqual(candidate))
            {
                return true;
            }
        }

        return false;
    }

    private static void WriteName(in Member member, PooledByteWriter writer)
    {
        if (!member.Escaped)
        {
            writer.WriteBlock(member.QuotedName.Span[1..^1]);
            return;
        }

        // The quoted name alone is a JSON string: read it back unescaped.
        var reader = new Utf8JsonReader(member.QuotedName.Span, ReaderOptions);
        reader.Read();
        writer.WriteString(reader.GetString());
    }

    /// <summary>
    /// Writes a member's value that is a number, a literal or a string without escapes straight from its raw bytes
    /// (as <see cref="Write"/> would); <see langword="false"/> for objects, arrays and escaped strings.
    /// </summary>
    private static bool TryWriteScalar(in Member member, PooledByteWriter writer)
    {
        switch (member.ValueType)
        {
            case JsonTokenType.String when !member.ValueEscaped:
                writer.Write(StringTag);
                writer.WriteBlock(member.Value.Span[1..^1]);
                return true;
            case JsonTokenType.Number:
                writer.Write(NumberTag);
                writer.WriteBlock(member.Value.Span);
                return true;
            case JsonTokenType.True:
                writer.Write((byte)'t');
                return true;
            case JsonTokenType.False:
                writer.Write((byte)'f');
                return true;
            case JsonTokenType.Null:
                writer.Write((byte)'z');
                return true;
            default:
                return false;
        }
    }

    /// <summary>
    /// An object member: its raw name with its quotes, whether the name has escapes, its raw value (a string with its
    /// quotes), where the value starts in the document, the value's first token and whether that token has escapes.
    /// </summary>
    private readonly record struct Member(ReadOnlyMemory<byte> QuotedName, bool Escaped, ReadOnlyMemory<byte> Value, int ValueOffset, JsonTokenType ValueType, bool ValueEscaped);

    /// <summary>Encodes the excluded member names once, at startup.</summary>
    public static byte[][] EncodeNames(IList<string> names)
    {
        var encoded = new byte[names.Count][];
        for (var i = 0; i < names.Count; i++)
        {
            encoded[i] = Encoding.UTF8.GetBytes(names[i]);
        }

        return encoded;
    }
}
