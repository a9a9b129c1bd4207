using AiEdge.Middleware.Internal;
using System.Buffers;
using System.Collections.Frozen;
using System.Globalization;
using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace AiEdge.Middleware.Caching.Internal;

/// <summary>Turns a captured response into a <see cref="CachedResponse"/>, and writes one back to a client.</summary>
internal static class ResponseRecorder
{
    public const string XCache = "X-Cache";
    public const string Age = "Age";
    public static readonly StringValues Hit = "HIT";
    public static readonly StringValues Miss = "MISS";
    public static readonly StringValues Bypass = "BYPASS";
    public static readonly StringValues Stale = "STALE";

    private static readonly string[] SmallNumbers = CreateSmallNumbers();

    // Never replayed: cookies, hop-by-hop fields, fields the server or other concerns compute per response.
    private static readonly FrozenSet<string> Excluded = FrozenSet.Create(
        StringComparer.OrdinalIgnoreCase,
        "Set-Cookie", "Connection", "Keep-Alive", "Proxy-Connection", "Proxy-Authenticate", "Proxy-Authorization",
        "TE", "Trailer", "Transfer-Encoding", "Upgrade", "Content-Length", "Date", "Server", "Age", XCache,
        "RateLimit", "RateLimit-Policy", "Retry-After", "Idempotent-Replayed");

    /// <summary>Takes the names of the headers present before the endpoint ran (set by earlier concerns, never stored).</summary>
    public static string[] SnapshotHeaderNames(IHeaderDictionary headers)
    {
        if (headers.Count == 0)
        {
            return [];
        }

        var names = new string[headers.Count];
        var i = 0;
        foreach (var header in headers)
        {
            names[i++] = header.Key;
        }

        return names;
    }

    /// <summary>Like <see cref="SnapshotHeaderNames"/>, into an array rented from the pool (give it back with <see cref="ReturnHeaderNames"/>).</summary>
    public static string[] RentHeaderNames(IHeaderDictionary headers, out int count)
    {
        count = headers.Count;
        if (count == 0)
        {
            return [];
        }

        var names = ArrayPool<string>.Shared.Rent(count);
        var i = 0;
        if (headers is HeaderDictionary dictionary)
        {
            // Its struct enumerator (through the interface the enumerator is boxed).
            foreach (var header in dictionary)
            {
                names[i++] = header.Key;
            }
        }
        else
        {
            foreach (var header in headers)
            {
                names[i++] = header.Key;
            }
        }

        return names;
    }

    /// <summary>Returns an array from <see cref="RentHeaderNames"/>.</summary>
    public static void ReturnHeaderNames(string[] names)
    {
        if (names.Length > 0)
        {
            ArrayPool<string>.Shared.Return(names, clearArray: true);
        }
    }

    /// <summary>Builds the stored form of the response the endpoint just produced.</summary>
    public static CachedResponse Record(
        HttpResponse response,
        ReadOnlySpan<string> headersBefore,
        ReadOnlySpan<byte> body,
        int[]? eventEnds,
        DateTimeOffset now,
        TimeSpan duration,
        TimeSpan staleWindow,
        string? extraExcluded = null)
        => Record(response, headersBefore, body, eventEnds, now, duration, staleWindow, extraExcluded, ReplayedHeaderSets.Shared);

    /// <summary>
    /// Builds the stored form of the response the endpoint just produced, its replayed headers shared through
    /// <paramref name="headerSets"/>: when an equal set is held there, this allocates only the response and its body.
    /// </summary>
    public static CachedResponse Record(
        HttpResponse response,
        ReadOnlySpan<string> headersBefore,
        ReadOnlySpan<byte> body,
        int[]? eventEnds,
        DateTimeOffset now,
        TimeSpan duration,
        TimeSpan staleWindow,
        string? extraExcluded,
        ReplayedHeaderSets headerSets)
    {
        var all = response.Headers;
        var expires = now + duration;
        var staleUntil = expires + staleWindow;

        // The replayed fields are gathered on the stack (a pooled array only for more than a handful).
        var inline = default(HeaderBuffer);
        KeyValuePair<string, StringValues>[]? rented = null;
        var kept = all.Count <= HeaderBuffer.Length
            ? (Span<KeyValuePair<string, StringValues>>)inline
            : rented = ArrayPool<KeyValuePair<string, StringValues>>.Shared.Rent(all.Count);
        var count = 0;
        try
        {
            if (all is HeaderDictionary dictionary)
            {
                // Its struct enumerator (through the interface the enumerator is boxed).
                foreach (var header in dictionary)
                {
                    if (IsReplayed(all, header.Key, headersBefore, extraExcluded))
                    {
                        kept[count++] = header;
                    }
                }
            }
            else
            {
                foreach (var header in all)
                {
                    if (IsReplayed(all, header.Key, headersBefore, extraExcluded))
                    {
                        kept[count++] = header;
                    }
                }
            }

            var headers = headerSets.Share(kept[..count], owned: null, out var headersShared);
            return new CachedResponse(response.StatusCode, headers, headersShared, CopyLongLived(body), eventEnds, now.UtcTicks, expires.UtcTicks, staleUntil.UtcTicks);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<KeyValuePair<string, StringValues>>.Shared.Return(rented, clearArray: true);
            }
        }
    }

    private static bool IsReplayed(IHeaderDictionary all, string name, ReadOnlySpan<string> headersBefore, string? extraExcluded)
        => !(Excluded.Contains(name)
            || (extraExcluded is not null && string.Equals(name, extraExcluded, StringComparison.OrdinalIgnoreCase))
            || (!name.StartsWith("Content-", StringComparison.OrdinalIgnoreCase) && Contains(headersBefore, name))
            || IsListedInConnection(all, name));

    // A stored body lives until it is evicted: allocated on the pinned object heap (logically the oldest
    // generation), the collector never copies it through the young generations, and it holds no references to trace.
    private static byte[] CopyLongLived(ReadOnlySpan<byte> body)
    {
        if (body.IsEmpty)
        {
            return [];
        }

        var copy = GC.AllocateUninitializedArray<byte>(body.Length, pinned: true);
        body.CopyTo(copy);
        return copy;
    }

    /// <summary>Finds the event boundaries of a completed event stream; <see langword="null"/> when the terminal event is missing.</summary>
    public static int[]? FindCompletedEvents(ReadOnlySpan<byte> body, ReadOnlySpan<byte> terminalEvent)
    {
        var ends = new List<int>();
        var start = 0;
        var completed = false;
        var i = 0;
        while (i < body.Length)
        {
            // An event ends at a blank line: LF LF, CR LF CR LF or CR CR.
            var end = BlankLineEnd(body, i);
            if (end < 0)
            {
                i++;
                continue;
            }

            var @event = body[start..i];
            completed = TrimEnd(@event).SequenceEqual(terminalEvent) || EndsWithLine(@event, terminalEvent);
            ends.Add(end);
            start = end;
            i = end;
        }

        return completed && start == body.Length ? [.. ends] : null;
    }

    /// <summary>
    /// Answers from <paramref name="cached"/>, event by event when it is an event stream. A non-empty
    /// <paramref name="status"/> becomes <c>X-Cache</c>; with <paramref name="sendAge"/> the answer also carries
    /// <c>Age</c>, the whole seconds from the entry's creation to <paramref name="now"/>.
    /// </summary>
    public static async Task WriteAsync(HttpContext context, CachedResponse cached, StringValues status, bool sendAge, DateTimeOffset now, string? replayedHeader = null)
    {
        var response = context.Response;
        response.StatusCode = cached.StatusCode;
        foreach (var header in cached.Headers)
        {
            response.Headers[header.Key] = header.Value;
        }

        if (!StringValues.IsNullOrEmpty(status))
        {
            response.Headers[XCache] = status;
        }

        if (sendAge)
        {
            response.Headers[Age] = FormatAge(now - cached.CreatedAt);
        }

        if (replayedHeader is not null)
        {
            response.Headers[replayedHeader] = "true";
        }

        var aborted = context.RequestAborted;
        if (cached.EventEnds is not { } ends)
        {
            response.ContentLength = cached.Body.Length;
            if (cached.Body.Length > 0)
            {
                await response.Body.WriteAsync(cached.Body, aborted);
            }

            return;
        }

        var start = 0;
        foreach (var end in ends)
        {
            await response.Body.WriteAsync(cached.Body.AsMemory(start, end - start), aborted);
            await response.Body.FlushAsync(aborted);
            start = end;
        }
    }

    private static int BlankLineEnd(ReadOnlySpan<byte> body, int i)
    {
        if (body[i] == (byte)'\n' && i + 1 < body.Length && body[i + 1] == (byte)'\n')
        {
            return i + 2;
        }

        if (body[i] == (byte)'\r' && i + 3 < body.Length && body[i + 1] == (byte)'\n' && body[i + 2] == (byte)'\r' && body[i + 3] == (byte)'\n')
        {
            return i + 4;
        }

        if (body[i] == (byte)'\r' && i + 1 < body.Length && body[i + 1] == (byte)'\r')
        {
            return i + 2;
        }

        return -1;
    }

    private static ReadOnlySpan<byte> TrimEnd(ReadOnlySpan<byte> value)
    {
        var end = value.Length;
        while (end > 0 && (value[end - 1] == (byte)'\n' || value[end - 1] == (byte)'\r' || value[end - 1] == (byte)' '))
        {
            end--;
        }

        return value[..end];
    }

    private static bool EndsWithLine(ReadOnlySpan<byte> @event, ReadOnlySpan<byte> line)
    {
        var trimmed = TrimEnd(@event);
        return trimmed.EndsWith(line) && (trimmed.Length == line.Length || trimmed[trimmed.Length - line.Length - 1] == (byte)'\n');
    }

    private static bool Contains(ReadOnlySpan<string> names, string name)
    {
        foreach (var candidate in names)
        {
            if (string.Equals(candidate, name, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    private static bool IsListedInConnection(IHeaderDictionary headers, string name)
    {
        var connection = headers.Connection;
        if (StringValues.IsNullOrEmpty(connection))
        {
            return false;
        }

        foreach (var value in connection)
        {
            foreach (var range in value.AsSpan().Split(','))
            {
                if (value.AsSpan(range).Trim().Equals(name, StringComparison.OrdinalIgnoreCase))
                {
                    return true;
                }
            }
        }

        return false;
    }

    /// <summary>The <c>Age</c> value for <paramref name="age"/>: whole seconds, never negative; below an hour without allocating.</summary>
    internal static string FormatAge(TimeSpan age)
    {
        var seconds = (long)age.TotalSeconds;
        return seconds <= 0 ? SmallNumbers[0] : seconds < SmallNumbers.Length ? SmallNumbers[seconds] : seconds.ToString(CultureInfo.InvariantCulture);
    }

    private static string[] CreateSmallNumbers()
    {
        var numbers = new string[3600];
        for (var i = 0; i < numbers.Length; i++)
        {
            numbers[i] = i.ToString(CultureInfo.InvariantCulture);
        }

        return numbers;
    }

    // Room for the replayed fields of an ordinary response without renting.
    [InlineArray(Length)]
    private struct HeaderBuffer
    {
        public const int Length = 16;

        private KeyValuePair<string, StringValues> _first;
    }
}
