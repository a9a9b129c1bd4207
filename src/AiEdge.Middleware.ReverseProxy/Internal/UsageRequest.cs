using System.Text.Json;

namespace AiEdge.Middleware.ReverseProxy.Internal;

/// <summary>What a request body says about usage: not a streamed JSON call, a streamed call whose caller asked for usage, or one that did not.</summary>
internal enum UsageRequestKind
{
    NotStreamed,
    ClientAsked,
    NotAsked,
}

/// <summary>
/// Reads an OpenAI-compatible request body (<c>"stream": true</c>, <c>stream_options.include_usage</c>) and writes it
/// again with <c>"stream_options": {"include_usage": true}</c>, with <see cref="Utf8JsonReader"/> and
/// <see cref="Utf8JsonWriter"/>: the top-level properties are copied as they were written (values raw), only
/// <c>stream_options</c> gains or changes <c>include_usage</c>. A body that is not one JSON object is left alone.
/// </summary>
internal static class UsageRequest
{
    /// <summary>Classifies <paramref name="json"/>; anything that is not a JSON object with <c>"stream": true</c> is <see cref="UsageRequestKind.NotStreamed"/>.</summary>
    public static UsageRequestKind Classify(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json);
        var stream = false;
        var asked = false;
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return UsageRequestKind.NotStreamed;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("stream"u8))
                {
                    reader.Read();
                    stream = reader.TokenType == JsonTokenType.True;
                    reader.Skip();
                }
                else if (reader.ValueTextEquals("stream_options"u8))
                {
                    reader.Read();
                    asked = reader.TokenType == JsonTokenType.StartObject && AsksUsage(ref reader);
                    reader.Skip();
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }

            // The whole body must be one well-formed object: read to its end.
            if (reader.TokenType != JsonTokenType.EndObject || reader.Read())
            {
                return UsageRequestKind.NotStreamed;
            }
        }
        catch (JsonException)
        {
            return UsageRequestKind.NotStreamed;
        }

        return !stream ? UsageRequestKind.NotStreamed : asked ? UsageRequestKind.ClientAsked : UsageRequestKind.NotAsked;
    }

    /// <summary>Writes <paramref name="json"/> (classified <see cref="UsageRequestKind.NotAsked"/>) with <c>include_usage</c> set to <see langword="true"/>.</summary>
    public static void WriteWithUsage(ReadOnlySpan<byte> json, Stream output)
    {
        using var writer = new Utf8JsonWriter(output);
        var reader = new Utf8JsonReader(json);
        reader.Read();
        writer.WriteStartObject();
        var wroteOptions = false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isOptions = reader.ValueTextEquals("stream_options"u8);
            WritePropertyName(ref reader, writer);
            reader.Read();
            if (isOptions && reader.TokenType == JsonTokenType.StartObject)
            {
                WriteOptions(ref reader, json, writer);
                wroteOptions = true;
                continue;
            }

            if (isOptions)
            {
                // "stream_options": null (or another non-object): replaced.
                reader.Skip();
                WriteUsageOptions(writer);
                wroteOptions = true;
                continue;
            }

            writer.WriteRawValue(RawValue(ref reader, json), skipInputValidation: true);
        }

        if (!wroteOptions)
        {
            writer.WritePropertyName("stream_options"u8);
            WriteUsageOptions(writer);
        }

        writer.WriteEndObject();
        writer.Flush();
    }

    private static bool AsksUsage(ref Utf8JsonReader reader)
    {
        var depth = reader.CurrentDepth;
        var asked = false;
        while (reader.Read() && reader.CurrentDepth > depth)
        {
            if (reader.TokenType == JsonTokenType.PropertyName && reader.CurrentDepth == depth + 1 && reader.ValueTextEquals("include_usage"u8))
            {
                reader.Read();
                asked = reader.TokenType == JsonTokenType.True;
            }
            else if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray)
            {
                reader.Skip();
            }
        }

        return asked;
    }

    /// <summary>Copies a <c>stream_options</c> object without its <c>include_usage</c>, then adds <c>"include_usage": true</c>.</summary>
    private static void WriteOptions(ref Utf8JsonReader reader, ReadOnlySpan<byte> json, Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("include_usage"u8))
            {
                reader.Read();
                reader.Skip();
                continue;
            }

            WritePropertyName(ref reader, writer);
            reader.Read();
            writer.WriteRawValue(RawValue(ref reader, json), skipInputValidation: true);
        }

        writer.WriteBoolean("include_usage"u8, true);
        writer.WriteEndObject();
    }

    private static void WriteUsageOptions(Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        writer.WriteBoolean("include_usage"u8, true);
        writer.WriteEndObject();
    }

    private static void WritePropertyName(ref Utf8JsonReader reader, Utf8JsonWriter writer)
    {
        if (reader.ValueIsEscaped)
        {
            writer.WritePropertyName(reader.GetString()!);
        }
        else
        {
            writer.WritePropertyName(reader.ValueSpan);
        }
    }

    /// <summary>The bytes of the value under the reader as they were written (a string with its quotes, a whole object or array).</summary>
    private static ReadOnlySpan<byte> RawValue(ref Utf8JsonReader reader, ReadOnlySpan<byte> json)
    {
        var start = (int)reader.TokenStartIndex;
        reader.Skip();
        return json[start..(int)reader.BytesConsumed];
    }
}
