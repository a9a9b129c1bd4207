using System.Buffers.Binary;
using System.Text;
using Microsoft.Extensions.Primitives;

namespace AiEdge.Middleware.Internal;

/// <summary>
/// A stored response: status, the headers worth replaying, the body and, for an event stream, the offsets where
/// each event ends. Immutable once built; shared by every request that replays it.
/// </summary>
internal sealed class CachedResponse
{
    private const byte FormatVersion = 1;

    public CachedResponse(
        int statusCode,
        KeyValuePair<string, StringValues>[] headers,
        byte[] body,
        int[]? eventEnds,
        DateTimeOffset createdAt,
        DateTimeOffset expiresAt,
        DateTimeOffset staleUntil)
    {
        StatusCode = statusCode;
        Headers = headers;
        Body = body;
        EventEnds = eventEnds;
        CreatedAt = createdAt;
        ExpiresAt = expiresAt;
        StaleUntil = staleUntil;
        Size = EstimateSize(headers, body, eventEnds);
    }

    /// <summary>Gets the status code.</summary>
    public int StatusCode { get; }

    /// <summary>Gets the replayed headers (content headers and those the endpoint set; never Set-Cookie or hop-by-hop).</summary>
    public KeyValuePair<string, StringValues>[] Headers { get; }

    /// <summary>Gets the body.</summary>
    public byte[] Body { get; }

    /// <summary>Gets, for a <c>text/event-stream</c> response, the exclusive end offset of each event in <see cref="Body"/>; otherwise <see langword="null"/>.</summary>
    public int[]? EventEnds { get; }

    /// <summary>Gets whether the response is a completed event stream.</summary>
    public bool IsEventStream => EventEnds is not null;

    /// <summary>Gets when the response was produced.</summary>
    public DateTimeOffset CreatedAt { get; }

    /// <summary>Gets when the response stops being fresh.</summary>
    public DateTimeOffset ExpiresAt { get; }

    /// <summary>Gets until when the response may still be served stale when the endpoint fails.</summary>
    public DateTimeOffset StaleUntil { get; }

    /// <summary>Gets the approximate number of bytes the entry holds in memory.</summary>
    public long Size { get; }

    /// <summary>Serializes the response into a self-contained byte array (the format of L2 and Redis records).</summary>
    public byte[] Serialize()
    {
        var size = 1 + 4 + 8 + 8 + 8 + 4 + 4 + Body.Length + 4 + ((EventEnds?.Length ?? 0) * 4);
        foreach (var header in Headers)
        {
            size += 4 + Encoding.UTF8.GetByteCount(header.Key) + 4;
            foreach (var value in header.Value)
            {
                size += 4 + Encoding.UTF8.GetByteCount(value ?? string.Empty);
            }
        }

        var buffer = new byte[size];
        var span = buffer.AsSpan();
        span[0] = FormatVersion;
        var offset = 1;
        WriteInt32(span, ref offset, StatusCode);
        WriteInt64(span, ref offset, CreatedAt.UtcTicks);
        WriteInt64(span, ref offset, ExpiresAt.UtcTicks);
        WriteInt64(span, ref offset, StaleUntil.UtcTicks);
        WriteInt32(span, ref offset, Headers.Length);
        foreach (var header in Headers)
        {
            WriteString(span, ref offset, header.Key);
            WriteInt32(span, ref offset, header.Value.Count);
            foreach (var value in header.Value)
            {
                WriteString(span, ref offset, value ?? string.Empty);
            }
        }

        WriteInt32(span, ref offset, Body.Length);
        Body.CopyTo(span[offset..]);
        offset += Body.Length;
        WriteInt32(span, ref offset, EventEnds is null ? -1 : EventEnds.Length);
        if (EventEnds is not null)
        {
            foreach (var end in EventEnds)
            {
                WriteInt32(span, ref offset, end);
            }
        }

        return buffer;
    }

    /// <summary>Reads a response written by <see cref="Serialize"/>; <see langword="false"/> for anything else.</summary>
    public static bool TryDeserialize(ReadOnlySpan<byte> data, out CachedResponse? response)
    {
        response = null;
        if (data.Length < 1 || data[0] != FormatVersion)
        {
            return false;
        }

        var offset = 1;
        if (!TryReadInt32(data, ref offset, out var status)
            || !TryReadInt64(data, ref offset, out var created)
            || !TryReadInt64(data, ref offset, out var expires)
            || !TryReadInt64(data, ref offset, out var stale)
            || !TryReadInt32(data, ref offset, out var headerCount)
            || headerCount < 0 || headerCount > 1024)
        {
            return false;
        }

        var headers = new KeyValuePair<string, StringValues>[headerCount];
        for (var i = 0; i < headerCount; i++)
        {
            if (!TryReadString(data, ref offset, out var name) || !TryReadInt32(data, ref offset, out var valueCount) || valueCount < 0 || valueCount > 1024)
            {
                return false;
            }

            var values = new string[valueCount];
            for (var j = 0; j < valueCount; j++)
            {
                if (!TryReadString(data, ref offset, out values[j]!))
                {
                    return false;
                }
            }

            headers[i] = new(name!, new StringValues(values));
        }

        if (!TryReadInt32(data, ref offset, out var bodyLength) || bodyLength < 0 || bodyLength > data.Length - offset)
        {
            return false;
        }

        var body = data.Slice(offset, bodyLength).ToArray();
        offset += bodyLength;
        if (!TryReadInt32(data, ref offset, out var eventCount) || eventCount < -1 || eventCount > (data.Length - offset) / 4)
        {
            return false;
        }

        int[]? eventEnds = null;
        if (eventCount >= 0)
        {
            eventEnds = new int[eventCount];
            for (var i = 0; i < eventCount; i++)
            {
                TryReadInt32(data, ref offset, out eventEnds[i]);
                if (eventEnds[i] < 0 || eventEnds[i] > body.Length)
                {
                    return false;
                }
            }
        }

        response = new CachedResponse(
            status,
            headers,
            body,
            eventEnds,
            new DateTimeOffset(created, TimeSpan.Zero),
            new DateTimeOffset(expires, TimeSpan.Zero),
            new DateTimeOffset(stale, TimeSpan.Zero));
        return true;
    }

    private static long EstimateSize(KeyValuePair<string, StringValues>[] headers, byte[] body, int[]? eventEnds)
    {
        long size = 128 + body.Length + ((eventEnds?.Length ?? 0) * 4);
        foreach (var header in headers)
        {
            size += 32 + (header.Key.Length * 2);
            foreach (var value in header.Value)
            {
                size += 24 + ((value?.Length ?? 0) * 2);
            }
        }

        return size;
    }

    private static void WriteInt32(Span<byte> span, ref int offset, int value)
    {
        BinaryPrimitives.WriteInt32LittleEndian(span[offset..], value);
        offset += 4;
    }

    private static void WriteInt64(Span<byte> span, ref int offset, long value)
    {
        BinaryPrimitives.WriteInt64LittleEndian(span[offset..], value);
        offset += 8;
    }

    private static void WriteString(Span<byte> span, ref int offset, string value)
    {
        var written = Encoding.UTF8.GetBytes(value, span[(offset + 4)..]);
        WriteInt32(span, ref offset, written);
        offset += written;
    }

    private static bool TryReadInt32(ReadOnlySpan<byte> data, ref int offset, out int value)
    {
        if (data.Length - offset < 4)
        {
            value = 0;
            return false;
        }

        value = BinaryPrimitives.ReadInt32LittleEndian(data[offset..]);
        offset += 4;
        return true;
    }

    private static bool TryReadInt64(ReadOnlySpan<byte> data, ref int offset, out long value)
    {
        if (data.Length - offset < 8)
        {
            value = 0;
            return false;
        }

        value = BinaryPrimitives.ReadInt64LittleEndian(data[offset..]);
        offset += 8;
        return true;
    }

    private static bool TryReadString(ReadOnlySpan<byte> data, ref int offset, out string? value)
    {
        value = null;
        if (!TryReadInt32(data, ref offset, out var length) || length < 0 || length > data.Length - offset)
        {
            return false;
        }

        value = Encoding.UTF8.GetString(data.Slice(offset, length));
        offset += length;
        return true;
    }
}
