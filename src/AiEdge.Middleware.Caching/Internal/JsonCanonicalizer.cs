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
    private static readonly Comparison<JsonProperty> CompareNames = CompareNamesCore;

    private static readonly JsonDocumentOptions DocumentOptions = new() { AllowTrailingCommas = false, CommentHandling = JsonCommentHandling.Disallow, MaxDepth = 64 };

    /// <summary>Writes the canonical form of <paramref name="json"/>; <see langword="false"/> when it is not valid JSON.</summary>
    public static bool TryWrite(ReadOnlyMemory<byte> json, PooledByteWriter writer, byte[][] excludedTopLevel)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, DocumentOptions);
        }
        catch (JsonException)
        {
            // Invalid JSON is the client's business (the endpoint answers it); the cache only needs to know.
            return false;
        }

        using (document)
        {
            Write(document.RootElement, writer, excludedTopLevel);
        }

        return true;
    }

    private static void Write(JsonElement element, PooledByteWriter writer, byte[][]? excluded)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                WriteObject(element, writer, excluded);
                break;
            case JsonValueKind.Array:
                writer.Write(ArrayStart);
                var count = 0;
                foreach (var item in element.EnumerateArray())
                {
                    Write(item, writer, null);
                    count++;
                }

                writer.Write(End);
                writer.WriteInt32(count);
                break;
            case JsonValueKind.String:
                writer.Write(StringTag);
                WriteStringValue(JsonMarshal.GetRawUtf8Value(element), element, writer);
                break;
            case JsonValueKind.Number:
                writer.Write(NumberTag);
                writer.WriteBlock(JsonMarshal.GetRawUtf8Value(element));
                break;
            case JsonValueKind.True:
                writer.Write((byte)'t');
                break;
            case JsonValueKind.False:
                writer.Write((byte)'f');
                break;
            default:
                writer.Write((byte)'z');
                break;
        }
    }

    private static void WriteObject(JsonElement element, PooledByteWriter writer, byte[][]? excluded)
    {
        var properties = ArrayPool<JsonProperty>.Shared.Rent(16);
        var count = 0;
        try
        {
            foreach (var property in element.EnumerateObject())
            {
                if (excluded is not null && IsExcluded(JsonMarshal.GetRawUtf8PropertyName(property), excluded))
                {
                    continue;
                }

                if (count == properties.Length)
                {
                    var larger = ArrayPool<JsonProperty>.Shared.Rent(count * 2);
                    Array.Copy(properties, larger, count);
                    ArrayPool<JsonProperty>.Shared.Return(properties, clearArray: true);
                    properties = larger;
                }

                properties[count++] = property;
            }

            properties.AsSpan(0, count).Sort(CompareNames);
            writer.Write(ObjectStart);
            for (var i = 0; i < count; i++)
            {
                var property = properties[i];
                WriteName(property, writer);
                Write(property.Value, writer, null);
            }

            writer.Write(End);
            writer.WriteInt32(count);
        }
        finally
        {
            ArrayPool<JsonProperty>.Shared.Return(properties, clearArray: true);
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

    private static void WriteName(JsonProperty property, PooledByteWriter writer)
    {
        var raw = JsonMarshal.GetRawUtf8PropertyName(property);
        if (raw.IndexOf((byte)'\\') < 0)
        {
            writer.WriteBlock(raw);
        }
        else
        {
            writer.WriteString(property.Name);
        }
    }

    private static void WriteStringValue(ReadOnlySpan<byte> rawWithQuotes, JsonElement element, PooledByteWriter writer)
    {
        var raw = rawWithQuotes.Length >= 2 && rawWithQuotes[0] == (byte)'"' ? rawWithQuotes[1..^1] : rawWithQuotes;
        if (raw.IndexOf((byte)'\\') < 0)
        {
            writer.WriteBlock(raw);
        }
        else
        {
            writer.WriteString(element.GetString());
        }
    }

    /// <summary>Orders members by their raw UTF-8 names (escaped names are rare and still order deterministically).</summary>
    private static int CompareNamesCore(JsonProperty x, JsonProperty y)
        => JsonMarshal.GetRawUtf8PropertyName(x).SequenceCompareTo(JsonMarshal.GetRawUtf8PropertyName(y));

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
