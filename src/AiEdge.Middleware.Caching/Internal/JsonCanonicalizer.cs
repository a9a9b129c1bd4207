using AiEdge.Middleware.Internal;
using System.Buffers;
using System.Text.Json;
using System.Text.Unicode;

namespace AiEdge.Middleware.Caching.Internal;

/// <summary>What <see cref="JsonCanonicalizer.TryWrite"/> found.</summary>
internal enum JsonCanonicalResult
{
    /// <summary>The canonical form was written.</summary>
    Written,

    /// <summary>The body is not JSON (or not I-JSON text: invalid UTF-8, a lone surrogate); nothing was written.</summary>
    NotJson,

    /// <summary>The body is JSON, but an object has one member name twice; nothing was written.</summary>
    DuplicateMember,
}

/// <summary>
/// Writes a canonical form of a JSON document for hashing. Its contract: two documents have the same canonical form
/// only if a JSON binder reads the same values from both. Object members are sorted by their unescaped names,
/// insignificant whitespace is gone, string escapes are decoded, numbers are kept exactly as written (<c>1</c>,
/// <c>1.0</c> and <c>1e0</c> differ, because a binder may read them differently) and configured top-level members
/// are left out. A document whose objects repeat a member name (after unescaping, compared as the binder compares
/// names) has no canonical form: which of the two a binder reads depends on their order, which sorting loses
/// (RFC 7493, I-JSON, forbids such documents).
/// </summary>
/// <remarks>
/// The encoding is prefix-free, so distinct documents never give the same bytes: every value starts with a tag
/// (<c>{ [ s n t f z</c>), every member with <c>m</c>, strings, numbers and names carry their length, and
/// objects and arrays end with <c>}</c> (which no value or member starts with) and their member or item count.
/// </remarks>
internal static class JsonCanonicalizer
{
    private const byte ObjectStart = (byte)'{';
    private const byte ArrayStart = (byte)'[';
    private const byte End = (byte)'}';
    private const byte MemberTag = (byte)'m';
    private const byte StringTag = (byte)'s';
    private const byte NumberTag = (byte)'n';

    // Names sorted case-insensitively first, so that names equal under either comparison end up side by side;
    // one delegate for every sort (sorting with an IComparer would allocate one per call).
    private static readonly Comparison<Member> CompareNames = static (x, y) =>
    {
        var order = x.Name.Span.CompareTo(y.Name.Span, StringComparison.OrdinalIgnoreCase);
        return order != 0 ? order : x.Name.Span.SequenceCompareTo(y.Name.Span);
    };

    private static readonly JsonReaderOptions ReaderOptions = new() { AllowTrailingCommas = false, CommentHandling = JsonCommentHandling.Disallow, MaxDepth = 64 };

    /// <summary>Writes the canonical form of <paramref name="json"/>, or nothing when it has none.</summary>
    /// <param name="json">The document.</param>
    /// <param name="writer">Where the canonical form goes.</param>
    /// <param name="excludedTopLevel">Members of the root object left out, compared with <paramref name="ignoreCase"/>.</param>
    /// <param name="ignoreCase">Whether member names are compared as <see cref="StringComparison.OrdinalIgnoreCase"/>
    /// (what a <c>PropertyNameCaseInsensitive</c> System.Text.Json binder does) instead of ordinally.</param>
    /// <remarks>Reads with <see cref="Utf8JsonReader"/> in one pass that validates every token as it goes; what was
    /// written is taken back when the document turns out not to have a canonical form.</remarks>
    public static JsonCanonicalResult TryWrite(ReadOnlyMemory<byte> json, PooledByteWriter writer, string[] excludedTopLevel, bool ignoreCase)
    {
        var start = writer.Length;
        var duplicate = false;
        try
        {
            var reader = new Utf8JsonReader(json.Span, ReaderOptions);
            if (reader.Read())
            {
                Write(ref reader, json, 0, writer, excludedTopLevel, ignoreCase, ref duplicate);

                // The reader reads the whole input as its final block: anything after the value throws here.
                if (!reader.Read())
                {
                    if (!duplicate)
                    {
                        return JsonCanonicalResult.Written;
                    }

                    writer.Rewind(start);
                    return JsonCanonicalResult.DuplicateMember;
                }
            }
        }
        catch (JsonException)
        {
            // Invalid JSON is the client's business (the endpoint answers it); the cache only needs to know.
        }
        catch (InvalidOperationException)
        {
            // Well-formed JSON whose strings are not valid Unicode (invalid UTF-8, a lone surrogate such as "\ud800"):
            // the reader validates the syntax only, so decoding a string is where it shows. Treated as not JSON.
        }

        writer.Rewind(start);
        return JsonCanonicalResult.NotJson;
    }

    /// <summary>Writes the value at the reader (which reads <paramref name="json"/> from <paramref name="offset"/>) and leaves the reader on its last token.</summary>
    private static void Write(ref Utf8JsonReader reader, ReadOnlyMemory<byte> json, int offset, PooledByteWriter writer, string[]? excluded, bool ignoreCase, ref bool duplicate)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.StartObject:
                WriteObject(ref reader, json, offset, writer, excluded, ignoreCase, ref duplicate);
                break;
            case JsonTokenType.StartArray:
                writer.Write(ArrayStart);
                var count = 0;
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    Write(ref reader, json, offset, writer, null, ignoreCase, ref duplicate);
                    count++;
                }

                writer.Write(End);
                writer.WriteInt32(count);
                break;
            case JsonTokenType.String:
                writer.Write(StringTag);

                // Decodes escapes and validates: invalid UTF-8 or a lone surrogate throws InvalidOperationException.
                // The decoded text is never longer than the raw one.
                var span = writer.GetSpan(4 + reader.ValueSpan.Length);
                var length = reader.CopyString(span[4..]);
                writer.WriteInt32(length);
                writer.Advance(length);
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

    private static void WriteObject(ref Utf8JsonReader reader, ReadOnlyMemory<byte> json, int offset, PooledByteWriter writer, string[]? excluded, bool ignoreCase, ref bool duplicate)
    {
        var members = ArrayPool<Member>.Shared.Rent(16);
        var names = ArrayPool<char>.Shared.Rent(256);
        var count = 0;
        var used = 0;
        try
        {
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                // The unescaped name has no more UTF-16 units than the raw name has bytes. CopyString decodes escapes
                // and validates: invalid UTF-8 or a lone surrogate throws InvalidOperationException.
                if (names.Length - used < reader.ValueSpan.Length)
                {
                    var larger = ArrayPool<char>.Shared.Rent(Math.Max(names.Length * 2, used + reader.ValueSpan.Length));
                    names.AsSpan(0, used).CopyTo(larger);
                    ArrayPool<char>.Shared.Return(names);
                    names = larger;
                }

                var nameStart = used;
                var nameLength = reader.CopyString(names.AsSpan(used));
                used += nameLength;

                // The token starts at the opening quote; the raw name follows it (valid UTF-8: CopyString checked).
                var nameEscaped = reader.ValueIsEscaped;
                var rawName = nameEscaped ? default : json.Slice(offset + (int)reader.TokenStartIndex + 1, reader.ValueSpan.Length);
                reader.Read();
                var valueType = reader.TokenType;
                var valueEscaped = reader.ValueIsEscaped;
                var valueStart = (int)reader.TokenStartIndex;
                reader.Skip();
                if (count == members.Length)
                {
                    var larger = ArrayPool<Member>.Shared.Rent(count * 2);
                    Array.Copy(members, larger, count);
                    ArrayPool<Member>.Shared.Return(members, clearArray: true);
                    members = larger;
                }

                var valueOffset = offset + valueStart;
                members[count++] = new Member
                {
                    NameStart = nameStart,
                    NameLength = nameLength,
                    RawName = rawName,
                    NameEscaped = nameEscaped,
                    Value = json.Slice(valueOffset, (int)reader.BytesConsumed - valueStart),
                    ValueOffset = valueOffset,
                    ValueType = valueType,
                    ValueEscaped = valueEscaped,
                    Excluded = excluded is not null && IsExcluded(names.AsSpan(nameStart, nameLength), excluded, ignoreCase),
                };
            }

            // The names buffer no longer moves: point every member at its name, sort, and look for a name twice
            // (excluded members count: a document with a repeated member is not I-JSON wherever the member is).
            for (var i = 0; i < count; i++)
            {
                members[i].Name = names.AsMemory(members[i].NameStart, members[i].NameLength);
            }

            var sorted = members.AsSpan(0, count);
            sorted.Sort(CompareNames);
            for (var i = 1; i < sorted.Length; i++)
            {
                if (SameName(sorted[i - 1].Name.Span, sorted[i].Name.Span, ignoreCase))
                {
                    duplicate = true;
                    break;
                }
            }

            writer.Write(ObjectStart);
            var written = 0;
            foreach (ref readonly var member in sorted)
            {
                if (member.Excluded)
                {
                    continue;
                }

                writer.Write(MemberTag);
                if (member.NameEscaped)
                {
                    writer.WriteUtf8Block(member.Name.Span);
                }
                else
                {
                    writer.WriteBlock(member.RawName.Span);
                }

                if (!TryWriteScalar(member, writer))
                {
                    var valueReader = new Utf8JsonReader(member.Value.Span, ReaderOptions);
                    valueReader.Read();
                    Write(ref valueReader, json, member.ValueOffset, writer, null, ignoreCase, ref duplicate);
                }

                written++;
            }

            writer.Write(End);
            writer.WriteInt32(written);
        }
        finally
        {
            ArrayPool<char>.Shared.Return(names);
            ArrayPool<Member>.Shared.Return(members, clearArray: true);
        }
    }

    private static bool SameName(ReadOnlySpan<char> x, ReadOnlySpan<char> y, bool ignoreCase)
        => ignoreCase ? x.Equals(y, StringComparison.OrdinalIgnoreCase) : x.SequenceEqual(y);

    private static bool IsExcluded(ReadOnlySpan<char> name, string[] excluded, bool ignoreCase)
    {
        foreach (var candidate in excluded)
        {
            if (SameName(name, candidate, ignoreCase))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Writes a member's value that is a number, a literal or a valid string without escapes straight from its raw
    /// bytes (as <see cref="Write"/> would); <see langword="false"/> for objects, arrays and other strings.
    /// </summary>
    private static bool TryWriteScalar(in Member member, PooledByteWriter writer)
    {
        switch (member.ValueType)
        {
            case JsonTokenType.String when !member.ValueEscaped && Utf8.IsValid(member.Value.Span[1..^1]):
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
    /// An object member: where its unescaped name is in the object's name buffer (and, once that buffer is final, the
    /// name itself), its raw name when that has no escapes (the same UTF-8 the unescaped name encodes to), its raw value (a string with its quotes), where the value starts in the document, the value's
    /// first token, whether that token has escapes, and whether the member is left out of the key.
    /// </summary>
    private struct Member
    {
        public ReadOnlyMemory<char> Name;
        public int NameStart;
        public int NameLength;
        public ReadOnlyMemory<byte> RawName;
        public bool NameEscaped;
        public ReadOnlyMemory<byte> Value;
        public int ValueOffset;
        public JsonTokenType ValueType;
        public bool ValueEscaped;
        public bool Excluded;
    }
}
