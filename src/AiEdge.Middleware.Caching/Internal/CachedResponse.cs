using AiEdge.Middleware.Internal;
using System.Buffers.Binary;
using System.Text;
using Microsoft.Extensions.Primitives;

namespace AiEdge.Middleware.Caching.Internal;

/// <summary>
/// A stored response: status, the headers worth replaying, the body and, for an event stream, the offsets where
/// each event ends. Immutable from the outside once built; shared by every request that replays it.
/// </summary>
/// <remarks>
/// It is also its own node in <see cref="MemoryResponseCache"/>'s least-recently-used list (the <c>Lru*</c> members),
/// so storing a response allocates nothing beside it and its body. Those members are read and written only by that
/// cache, under its lock, once the cache has claimed the instance (<see cref="TryClaim"/>).
/// </remarks>
internal sealed class CachedResponse
{
    /// <summary>
    /// What one entry costs beside its body, headers and event ends, in bytes on a 64-bit runtime: this object
    /// (object header and method table 16, five references 40, three longs 24, the 32-byte key, two ints 8: 120)
    /// and its slot in the cache's set (reference 8, hash and next 8, bucket 4: 20, say 24).
    /// </summary>
    public const int EntryOverhead = 120 + 24;

    /// <summary>What an array costs beside its elements (object header, method table, length).</summary>
    public const int ArrayOverhead = 24;

    /// <summary>What a string costs beside its characters (object header, method table, length, terminator).</summary>
    public const int StringOverhead = 22;

    private const byte FormatVersion = 1;

    // The high bit of _status marks an instance claimed by a cache (see TryClaim).
    private const int ClaimedBit = int.MinValue;

    private readonly long _createdTicks;
    private readonly long _expiresTicks;
    private readonly long _staleTicks;
    private readonly int _size;
    private int _status;

    public CachedResponse(
        int statusCode,
        KeyValuePair<string, StringValues>[] headers,
        byte[] body,
        int[]? eventEnds,
        DateTimeOffset createdAt,
        DateTimeOffset expiresAt,
        DateTimeOffset staleUntil)
        : this(statusCode, headers, ReplayedHeaderSets.Shared.Holds(headers), body, eventEnds, createdAt.UtcTicks, expiresAt.UtcTicks, staleUntil.UtcTicks)
    {
    }

    /// <summary>
    /// Builds a response whose <paramref name="headers"/> may be a set shared with other responses
    /// (<paramref name="headersShared"/>: held by <see cref="ReplayedHeaderSets"/>, so not charged to this entry);
    /// the times are UTC ticks.
    /// </summary>
    internal CachedResponse(
        int statusCode,
        KeyValuePair<string, StringValues>[] headers,
        bool headersShared,
        byte[] body,
        int[]? eventEnds,
        long createdTicks,
        long expiresTicks,
        long staleTicks)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(statusCode);
        _status = statusCode;
        Headers = headers;
        Body = body;
        EventEnds = eventEnds;
        _createdTicks = createdTicks;
        _expiresTicks = expiresTicks;
        _staleTicks = staleTicks;
        _size = (int)Math.Min(EstimateSize(headers, headersShared, body, eventEnds), int.MaxValue);
    }

    // A copy sharing the arrays, for a cache that finds the instance already claimed.
    private CachedResponse(CachedResponse other)
    {
        _status = other.StatusCode;
        Headers = other.Headers;
        Body = other.Body;
        EventEnds = other.EventEnds;
        _createdTicks = other._createdTicks;
        _expiresTicks = other._expiresTicks;
        _staleTicks = other._staleTicks;
        _size = other._size;
    }

    /// <summary>Gets the status code.</summary>
    public int StatusCode => _status & ~ClaimedBit;

    /// <summary>
    /// Gets the replayed headers (content headers and those the endpoint set; never Set-Cookie or hop-by-hop).
    /// The array may be shared with other responses: never modify it.
    /// </summary>
    public KeyValuePair<string, StringValues>[] Headers { get; }

    /// <summary>Gets the body.</summary>
    public byte[] Body { get; }

    /// <summary>Gets, for a <c>text/event-stream</c> response, the exclusive end offset of each event in <see cref="Body"/>; otherwise <see langword="null"/>.</summary>
    public int[]? EventEnds { get; }

    /// <summary>Gets whether the response is a completed event stream.</summary>
    public bool IsEventStream => EventEnds is not null;

    /// <summary>Gets when the response was produced.</summary>
    public DateTimeOffset CreatedAt => new(_createdTicks, TimeSpan.Zero);

    /// <summary>Gets when the response stops being fresh.</summary>
    public DateTimeOffset ExpiresAt => new(_expiresTicks, TimeSpan.Zero);

    /// <summary>Gets until when the response may still be served stale when the endpoint fails.</summary>
    public DateTimeOffset StaleUntil => new(_staleTicks, TimeSpan.Zero);

    /// <summary>Gets <see cref="StaleUntil"/> in UTC ticks.</summary>
    public long StaleUntilTicks => _staleTicks;

    /// <summary>
    /// Gets the approximate number of bytes the entry holds in memory: <see cref="EntryOverhead"/>, the body and
    /// event-end arrays, and the header set unless it is shared (a shared set is held once by the bounded
    /// <see cref="ReplayedHeaderSets"/> table, whatever the number of entries referring to it). A private header set
    /// counts its array, and each field's name and value strings (plus the array of several values), even though
    /// those strings may be shared with the server: the estimate errs on the side of holding less. At most
    /// <see cref="int.MaxValue"/>.
    /// </summary>
    public long Size => _size;

    /// <summary>The previous (more recently used) entry; <see cref="MemoryResponseCache"/> only, under its lock.</summary>
    internal CachedResponse? LruPrevious { get; set; }

    /// <summary>The next (less recently used) entry; <see cref="MemoryResponseCache"/> only, under its lock.</summary>
    internal CachedResponse? LruNext { get; set; }

    /// <summary>The key the entry is stored under; <see cref="MemoryResponseCache"/> only, under its lock.</summary>
    internal CacheKey LruKey { get; set; }

    /// <summary>Claims the instance for one cache's list; <see langword="false"/> when it was claimed before (it is never released).</summary>
    internal bool TryClaim() => (Interlocked.Or(ref _status, ClaimedBit) & ClaimedBit) == 0;

    /// <summary>A new, unclaimed instance with the same content (the arrays are shared).</summary>
    internal CachedResponse CopyUnclaimed() => new(this);

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
        WriteInt64(span, ref offset, _createdTicks);
        WriteInt64(span, ref offset, _expiresTicks);
        WriteInt64(span, ref offset, _staleTicks);
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
            || status < 0
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

        if (created < DateTimeOffset.MinValue.UtcTicks || created > DateTimeOffset.MaxValue.UtcTicks
            || expires < DateTimeOffset.MinValue.UtcTicks || expires > DateTimeOffset.MaxValue.UtcTicks
            || stale < DateTimeOffset.MinValue.UtcTicks || stale > DateTimeOffset.MaxValue.UtcTicks)
        {
            return false;
        }

        headers = ReplayedHeaderSets.Shared.Share(headers, headers, out var headersShared);
        response = new CachedResponse(status, headers, headersShared, body, eventEnds, created, expires, stale);
        return true;
    }

    private static long EstimateSize(KeyValuePair<string, StringValues>[] headers, bool headersShared, byte[] body, int[]? eventEnds)
    {
        long size = EntryOverhead + ArrayOverhead + body.Length;
        if (eventEnds is not null)
        {
            size += ArrayOverhead + (eventEnds.Length * 4L);
        }

        if (headersShared)
        {
            return size;
        }

        // KeyValuePair<string, StringValues>: two references.
        size += ArrayOverhead + (headers.Length * 16L);
        foreach (var header in headers)
        {
            size += StringOverhead + (header.Key.Length * 2L);
            var values = header.Value;
            if (values.Count > 1)
            {
                size += ArrayOverhead + (values.Count * 8L);
            }

            for (var i = 0; i < values.Count; i++)
            {
                size += StringOverhead + ((values[i]?.Length ?? 0) * 2L);
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
