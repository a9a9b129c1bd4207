using System.Buffers;
using System.IO.Pipelines;
using System.Net.ServerSentEvents;
using System.Text;
using System.Text.Json;
using AiEdge.Middleware.Streaming.Internal;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace AiEdge.Middleware.Streaming;

/// <summary>
/// Writes server-sent events (<c>text/event-stream</c>) to a response: <c>id</c>, <c>event</c>, <c>retry</c> and
/// <c>data</c> fields, JSON data serialized straight into the response's pooled buffers, each event flushed as
/// soon as it is written. Works with or without the streaming stage; with it, idle streams also get heartbeats.
/// </summary>
/// <remarks>
/// Create one with <see cref="StartAsync"/>. Data of type <see cref="string"/> is written as text (one <c>data:</c>
/// line per line of text), any other type as one line of JSON. Not thread-safe: write one event at a time.
/// </remarks>
public sealed class EventStreamWriter
{
    private static readonly byte[] IdField = "id: "u8.ToArray();
    private static readonly byte[] EventField = "event: "u8.ToArray();
    private static readonly byte[] RetryField = "retry: "u8.ToArray();
    private static readonly byte[] DataField = "data: "u8.ToArray();
    private static readonly byte[] CommentField = ": "u8.ToArray();
    private static readonly byte[] LineEnd = "\n"u8.ToArray();

    private readonly PipeWriter _writer;
    private readonly JsonSerializerOptions _json;
    private Utf8JsonWriter? _jsonWriter;

    private EventStreamWriter(HttpResponse response, JsonSerializerOptions json)
    {
        Response = response;
        _writer = response.BodyWriter;
        _json = json;
    }

    /// <summary>Gets the response the events are written to.</summary>
    public HttpResponse Response { get; }

    /// <summary>
    /// Starts an event stream: status 200 (unless already set to another 2xx), <c>Content-Type: text/event-stream</c>,
    /// <c>Cache-Control: no-cache, no-transform</c>, <c>X-Accel-Buffering: no</c>, response buffering, response
    /// compression and the request timeout switched off; the headers are sent at once so the client sees the stream
    /// open before the first event.
    /// </summary>
    /// <param name="response">The response to write to; it must not have started.</param>
    /// <param name="json">Options for JSON data; <see langword="null"/> for the application's
    /// <see cref="Microsoft.AspNetCore.Http.Json.JsonOptions"/> (web defaults).</param>
    /// <param name="cancellationToken">Cancels the start, typically <see cref="HttpContext.RequestAborted"/>.</param>
    /// <returns>The writer.</returns>
    /// <exception cref="InvalidOperationException">The response has already started.</exception>
    public static async Task<EventStreamWriter> StartAsync(HttpResponse response, JsonSerializerOptions? json = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(response);
        if (response.HasStarted)
        {
            throw new InvalidOperationException("The response has already started: an event stream must begin with its headers.");
        }

        if (response.StatusCode is < 200 or > 299)
        {
            response.StatusCode = StatusCodes.Status200OK;
        }

        response.ContentType = MediaTypes.EventStream;
        response.Headers.ContentLength = null;
        response.Headers.CacheControl = "no-cache, no-transform";
        response.Headers["X-Accel-Buffering"] = "no";

        // Also safe without the streaming stage: no compression, no request timeout, no buffering.
        StreamingMiddleware.PrepareRequest(response.HttpContext);
        response.HttpContext.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        json ??= response.HttpContext.RequestServices?.GetService<IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions>>()?.Value.SerializerOptions
            ?? JsonSerializerOptions.Web;

        var writer = new EventStreamWriter(response, json);
        await response.StartAsync(cancellationToken);
        await response.Body.FlushAsync(cancellationToken);
        return writer;
    }

    /// <summary>Writes one event whose data is <paramref name="data"/> (text as is, anything else as JSON), and flushes it.</summary>
    /// <typeparam name="T">The type of the data.</typeparam>
    /// <param name="data">The event's data.</param>
    /// <param name="eventType">The <c>event</c> field; <see langword="null"/> for none (a <c>message</c> event).</param>
    /// <param name="id">The <c>id</c> field; <see langword="null"/> for none.</param>
    /// <param name="retry">The <c>retry</c> field (the client's reconnection delay); <see langword="null"/> for none.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>A task that completes when the event is flushed.</returns>
    /// <exception cref="ArgumentException"><paramref name="eventType"/> or <paramref name="id"/> contains a line break.</exception>
    public ValueTask WriteAsync<T>(T data, string? eventType = null, string? id = null, TimeSpan? retry = null, CancellationToken cancellationToken = default)
    {
        WriteFields(eventType, id, retry);
        WriteData(data);
        return FlushAsync(cancellationToken);
    }

    /// <summary>Writes an event given as an <see cref="SseItem{T}"/> (the item type of <c>TypedResults.ServerSentEvents</c>), and flushes it.</summary>
    /// <typeparam name="T">The type of the data.</typeparam>
    /// <param name="item">The event.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>A task that completes when the event is flushed.</returns>
    public ValueTask WriteItemAsync<T>(SseItem<T> item, CancellationToken cancellationToken = default)
    {
        var eventType = item.EventType;
        WriteFields(string.Equals(eventType, "message", StringComparison.Ordinal) ? null : eventType, item.EventId, item.ReconnectionInterval);
        WriteData(item.Data);
        return FlushAsync(cancellationToken);
    }

    /// <summary>Writes a comment line (ignored by clients; keeps proxies from timing out), and flushes it.</summary>
    /// <param name="comment">The comment text; no line breaks.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>A task that completes when the comment is flushed.</returns>
    public ValueTask WriteCommentAsync(string comment, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(comment);
        EnsureSingleLine(comment, nameof(comment));
        _writer.Write(CommentField);
        Encoding.UTF8.GetBytes(comment.AsSpan(), _writer);
        _writer.Write(LineEnd);
        _writer.Write(LineEnd);
        return FlushAsync(cancellationToken);
    }

    private static void EnsureSingleLine(string value, string parameter)
    {
        if (value.AsSpan().IndexOfAny('\r', '\n') >= 0)
        {
            throw new ArgumentException("The value must not contain line breaks.", parameter);
        }
    }

    private void WriteFields(string? eventType, string? id, TimeSpan? retry)
    {
        if (id is not null)
        {
            EnsureSingleLine(id, nameof(id));
            WriteField(IdField, id);
        }

        if (eventType is not null)
        {
            EnsureSingleLine(eventType, nameof(eventType));
            WriteField(EventField, eventType);
        }

        if (retry is { } interval)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(interval, TimeSpan.Zero, nameof(retry));
            _writer.Write(RetryField);
            var span = _writer.GetSpan(20);
            ((long)interval.TotalMilliseconds).TryFormat(span, out var written, default, System.Globalization.CultureInfo.InvariantCulture);
            _writer.Advance(written);
            _writer.Write(LineEnd);
        }
    }

    private void WriteField(byte[] name, string value)
    {
        _writer.Write(name);
        Encoding.UTF8.GetBytes(value.AsSpan(), _writer);
        _writer.Write(LineEnd);
    }

    private void WriteData<T>(T data)
    {
        if (data is string text)
        {
            WriteText(text);
        }
        else
        {
            _writer.Write(DataField);
            if (_jsonWriter is null)
            {
                _jsonWriter = new Utf8JsonWriter(_writer, new JsonWriterOptions { Indented = false, Encoder = _json.Encoder });
            }
            else
            {
                _jsonWriter.Reset(_writer);
            }

            JsonSerializer.Serialize(_jsonWriter, data, _json);
            _jsonWriter.Flush();
            _writer.Write(LineEnd);
        }

        _writer.Write(LineEnd);
    }

    private void WriteText(ReadOnlySpan<char> text)
    {
        // One data line per line of text, whatever its line endings (CRLF, LF or CR).
        while (true)
        {
            _writer.Write(DataField);
            var end = text.IndexOfAny('\r', '\n');
            if (end < 0)
            {
                Encoding.UTF8.GetBytes(text, _writer);
                _writer.Write(LineEnd);
                return;
            }

            Encoding.UTF8.GetBytes(text[..end], _writer);
            _writer.Write(LineEnd);
            var skip = text[end] == '\r' && end + 1 < text.Length && text[end + 1] == '\n' ? 2 : 1;
            text = text[(end + skip)..];
        }
    }

    private ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        var flush = _writer.FlushAsync(cancellationToken);
        return flush.IsCompletedSuccessfully ? ValueTask.CompletedTask : AwaitFlushAsync(flush);

        static async ValueTask AwaitFlushAsync(ValueTask<FlushResult> flush) => await flush;
    }
}
