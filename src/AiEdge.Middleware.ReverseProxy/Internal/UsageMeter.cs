using System.Buffers;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using AiEdge.Middleware.RateLimiting;

namespace AiEdge.Middleware.ReverseProxy.Internal;

/// <summary>
/// Meters one streamed OpenAI-compatible answer for the caller's token budget, event by event as it is relayed. Each
/// complete event (ended by a blank line) is inspected and handed on at once; only the bytes of an unfinished event
/// are held, up to <see cref="MaxEventBytes"/> (a longer event is relayed as it comes, unmetered). An event's
/// <c>usage</c> is reported through <see cref="ITokenUsageFeature.ReportUsage"/>; when the gateway added
/// <c>stream_options.include_usage</c> itself, the usage-only chunk (<c>"choices": []</c>) is removed. The characters
/// of generated text (<c>choices[].delta.content</c>, <c>choices[].text</c>) are reported through
/// <see cref="ITokenUsageFeature.ReportCompletionCharacters"/>, so an answer without usage is still charged.
/// </summary>
internal sealed class UsageMeter(ITokenUsageFeature usage, bool injected) : IDisposable
{
    public const int MaxEventBytes = 64 * 1024;

    private byte[]? _pending;
    private int _length;
    private bool _atLineStart = true;
    private bool _afterCr;
    private bool _oversized;

    /// <summary>Gets whether the gateway added <c>include_usage</c> to the call (so the usage chunk is not the caller's).</summary>
    public bool Injected => injected;

    /// <summary>Gets whether the backend reported usage.</summary>
    public bool UsageSeen { get; private set; }

    /// <summary>Gets the number of usage chunks removed from the caller's stream.</summary>
    public int Removed { get; private set; }

    /// <summary>Gets whether bytes of an unfinished event are held.</summary>
    public bool HasPending => _length > 0;

    /// <summary>
    /// Takes the next bytes of the backend's stream and calls <paramref name="relay"/> with each complete event to hand
    /// on (never with a removed one) and with the bytes of an event too long to hold.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask WriteAsync(ReadOnlyMemory<byte> bytes, Func<ReadOnlyMemory<byte>, CancellationToken, ValueTask> relay, CancellationToken cancellationToken)
    {
        while (!bytes.IsEmpty)
        {
            var end = EventEnd(bytes.Span);
            var take = end < 0 ? bytes.Length : end + 1;
            var chunk = bytes[..take];
            bytes = bytes[take..];
            if (_oversized)
            {
                await relay(chunk, cancellationToken).ConfigureAwait(false);
                _oversized = end < 0;
                continue;
            }

            if (end < 0 && _length + chunk.Length > MaxEventBytes)
            {
                // Too long to hold: relay what came so far and the rest of this event as it comes.
                if (_length > 0)
                {
                    await relay(_pending.AsMemory(0, _length), cancellationToken).ConfigureAwait(false);
                    _length = 0;
                }

                await relay(chunk, cancellationToken).ConfigureAwait(false);
                _oversized = true;
                continue;
            }

            if (end < 0)
            {
                Hold(chunk.Span);
                continue;
            }

            ReadOnlyMemory<byte> complete;
            if (_length == 0)
            {
                complete = chunk;
            }
            else
            {
                Hold(chunk.Span);
                complete = _pending.AsMemory(0, _length);
            }

            var keep = Inspect(complete.Span);
            if (keep)
            {
                await relay(complete, cancellationToken).ConfigureAwait(false);
            }

            _length = 0;
        }
    }

    /// <summary>Forgets an unfinished event of an attempt that failed before anything was relayed (the next attempt starts a new stream).</summary>
    public void Reset()
    {
        _length = 0;
        _atLineStart = true;
        _afterCr = false;
        _oversized = false;
    }

    /// <summary>Hands on the bytes of an unfinished event (the backend's answer ended without a blank line).</summary>
    public ValueTask FlushPendingAsync(Func<ReadOnlyMemory<byte>, CancellationToken, ValueTask> relay, CancellationToken cancellationToken)
    {
        if (_length == 0)
        {
            return ValueTask.CompletedTask;
        }

        var pending = _pending.AsMemory(0, _length);
        _length = 0;
        return Inspect(pending.Span) ? relay(pending, cancellationToken) : ValueTask.CompletedTask;
    }

    public void Dispose()
    {
        if (_pending is not null)
        {
            ArrayPool<byte>.Shared.Return(_pending);
            _pending = null;
        }
    }

    /// <summary>The index of the byte that ends an event (the second line terminator in a row), or -1.</summary>
    private int EventEnd(ReadOnlySpan<byte> bytes)
    {
        for (var i = 0; i < bytes.Length; i++)
        {
            var b = bytes[i];
            if (b == (byte)'\n' && _afterCr)
            {
                _afterCr = false;   // the LF of a CRLF: the same terminator
                continue;
            }

            if (b is (byte)'\n' or (byte)'\r')
            {
                _afterCr = b == (byte)'\r';
                if (_atLineStart)
                {
                    if (_afterCr && i + 1 < bytes.Length && bytes[i + 1] == (byte)'\n')
                    {
                        _afterCr = false;   // the event's CRLF ends with it (an LF in the next write starts the next event)
                        return i + 1;
                    }

                    return i;
                }

                _atLineStart = true;
                continue;
            }

            _afterCr = false;
            _atLineStart = false;
        }

        return -1;
    }

    private void Hold(ReadOnlySpan<byte> bytes)
    {
        if (_pending is null || _length + bytes.Length > _pending.Length)
        {
            var larger = ArrayPool<byte>.Shared.Rent(Math.Max(_length + bytes.Length, Math.Max(4096, Math.Min(MaxEventBytes, (_length + bytes.Length) * 2))));
            _pending?.AsSpan(0, _length).CopyTo(larger);
            if (_pending is not null)
            {
                ArrayPool<byte>.Shared.Return(_pending);
            }

            _pending = larger;
        }

        bytes.CopyTo(_pending.AsSpan(_length));
        _length += bytes.Length;
    }

    /// <summary>Reads one event's <c>data:</c> lines; returns whether the event is handed on.</summary>
    private bool Inspect(ReadOnlySpan<byte> evt)
    {
        var keep = true;
        while (!evt.IsEmpty)
        {
            var lineEnd = evt.IndexOfAny((byte)'\n', (byte)'\r');
            var line = lineEnd < 0 ? evt : evt[..lineEnd];
            evt = lineEnd < 0 ? default : evt[(lineEnd + 1)..];
            if (!line.StartsWith("data:"u8))
            {
                continue;
            }

            var data = line[5..];
            if (!data.IsEmpty && data[0] == (byte)' ')
            {
                data = data[1..];
            }

            if (data.IsEmpty || data[0] != (byte)'{')
            {
                continue;   // [DONE] or not a JSON chunk
            }

            var chunk = ReadChunk(data);
            if (chunk.Characters > 0)
            {
                usage.ReportCompletionCharacters(chunk.Characters);
            }

            if (chunk.PromptTokens >= 0 && chunk.CompletionTokens >= 0)
            {
                UsageSeen = true;
                usage.ReportUsage(chunk.PromptTokens, chunk.CompletionTokens);
                if (injected && chunk.Choices == 0)
                {
                    keep = false;
                    Removed++;
                }
            }
        }

        return keep;
    }

    /// <summary>What one chunk holds: its choices, their generated characters and its usage (-1 when absent).</summary>
    internal static Chunk ReadChunk(ReadOnlySpan<byte> json)
    {
        var chunk = new Chunk { PromptTokens = -1, CompletionTokens = -1 };
        var reader = new Utf8JsonReader(json);
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return chunk;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("choices"u8))
                {
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.StartArray)
                    {
                        ReadChoices(ref reader, ref chunk);
                    }
                    else
                    {
                        reader.Skip();
                    }
                }
                else if (reader.ValueTextEquals("usage"u8))
                {
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.StartObject)
                    {
                        ReadUsage(ref reader, ref chunk);
                    }
                    else
                    {
                        reader.Skip();
                    }
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }
        }
        catch (JsonException)
        {
            // A malformed chunk is relayed as it is and counts for what was read of it.
        }

        return chunk;
    }

    private static void ReadChoices(ref Utf8JsonReader reader, ref Chunk chunk)
    {
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            chunk.Choices++;
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                reader.Skip();
                continue;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("text"u8))
                {
                    reader.Read();
                    chunk.Characters += Characters(ref reader);
                }
                else if (reader.ValueTextEquals("delta"u8) || reader.ValueTextEquals("message"u8))
                {
                    reader.Read();
                    if (reader.TokenType != JsonTokenType.StartObject)
                    {
                        reader.Skip();
                        continue;
                    }

                    while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                    {
                        var content = reader.ValueTextEquals("content"u8) || reader.ValueTextEquals("reasoning_content"u8);
                        reader.Read();
                        if (content)
                        {
                            chunk.Characters += Characters(ref reader);
                        }
                        else
                        {
                            reader.Skip();
                        }
                    }
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }
        }
    }

    private static void ReadUsage(ref Utf8JsonReader reader, ref Chunk chunk)
    {
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var prompt = reader.ValueTextEquals("prompt_tokens"u8);
            var completion = !prompt && reader.ValueTextEquals("completion_tokens"u8);
            reader.Read();
            if ((prompt || completion) && reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var value) && value >= 0)
            {
                if (prompt)
                {
                    chunk.PromptTokens = value;
                }
                else
                {
                    chunk.CompletionTokens = value;
                }
            }
            else
            {
                reader.Skip();
            }
        }
    }

    /// <summary>The characters of the string token under the reader (0 for any other token).</summary>
    private static long Characters(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.String)
        {
            return 0;
        }

        if (!reader.ValueIsEscaped)
        {
            return Encoding.UTF8.GetCharCount(reader.ValueSpan);
        }

        var buffer = ArrayPool<char>.Shared.Rent(reader.ValueSpan.Length);
        try
        {
            return reader.CopyString(buffer);
        }
        finally
        {
            ArrayPool<char>.Shared.Return(buffer);
        }
    }

    internal struct Chunk
    {
        public int Choices;
        public long Characters;
        public long PromptTokens;
        public long CompletionTokens;
    }
}
