using System.Text.Json;

namespace AiEdge.Middleware.RateLimiting.Internal;

/// <summary>
/// Finds the OpenAI-style <c>"usage": {...}</c> object in a response as its bytes pass, without buffering the
/// response: a byte matcher for the key, then a capture of at most 1 KiB for the object. The last non-null usage
/// wins (an event stream's final chunk). It also counts event-stream <c>data:</c> lines, so a stream cut short
/// can be charged for what it produced.
/// </summary>
internal sealed class UsageScanner
{
    private const int MaxCapture = 1024;
    private static ReadOnlySpan<byte> Key => "\"usage\""u8;
    private static ReadOnlySpan<byte> DataField => "data:"u8;
    private static ReadOnlySpan<byte> Done => "[DONE]"u8;

    private readonly byte[] _capture = new byte[MaxCapture];
    private Phase _phase;
    private int _keyMatched;
    private int _captured;
    private int _depth;
    private bool _inString;
    private bool _escaped;
    private int _lineMatched;
    private bool _lineStart = true;
    private int _doneMatched;

    private enum Phase
    {
        Searching,
        AfterKey,
        AfterColon,
        Capturing,
    }

    /// <summary>Gets the prompt tokens of the last usage seen, or -1.</summary>
    public long PromptTokens { get; private set; } = -1;

    /// <summary>Gets the completion tokens of the last usage seen, or -1.</summary>
    public long CompletionTokens { get; private set; } = -1;

    /// <summary>Gets the total tokens of the last usage seen (prompt + completion when not given), or -1.</summary>
    public long TotalTokens { get; private set; } = -1;

    /// <summary>Gets the number of event-stream <c>data:</c> lines seen.</summary>
    public int DataLines { get; private set; }

    /// <summary>Gets the number of <c>[DONE]</c> markers seen.</summary>
    public int DoneMarkers { get; private set; }

    public void Observe(ReadOnlySpan<byte> bytes)
    {
        foreach (var b in bytes)
        {
            ObserveLines(b);
            switch (_phase)
            {
                case Phase.Searching:
                    MatchKey(b);
                    break;
                case Phase.AfterKey:
                    if (b == (byte)':')
                    {
                        _phase = Phase.AfterColon;
                    }
                    else if (!IsWhitespace(b))
                    {
                        _phase = Phase.Searching;
                        MatchKey(b);
                    }

                    break;
                case Phase.AfterColon:
                    if (b == (byte)'{')
                    {
                        _phase = Phase.Capturing;
                        _captured = 0;
                        _depth = 0;
                        _inString = false;
                        _escaped = false;
                        Capture(b);
                    }
                    else if (!IsWhitespace(b))
                    {
                        _phase = Phase.Searching;
                        MatchKey(b);
                    }

                    break;
                case Phase.Capturing:
                    Capture(b);
                    break;
            }
        }
    }

    private void MatchKey(byte b)
    {
        if (b == Key[_keyMatched])
        {
            _keyMatched++;
            if (_keyMatched == Key.Length)
            {
                _keyMatched = 0;
                _phase = Phase.AfterKey;
            }

            return;
        }

        _keyMatched = b == Key[0] ? 1 : 0;
    }

    private void Capture(byte b)
    {
        if (_captured == MaxCapture)
        {
            _phase = Phase.Searching;
            return;
        }

        _capture[_captured++] = b;
        if (_inString)
        {
            if (_escaped)
            {
                _escaped = false;
            }
            else if (b == (byte)'\\')
            {
                _escaped = true;
            }
            else if (b == (byte)'"')
            {
                _inString = false;
            }

            return;
        }

        if (b == (byte)'"')
        {
            _inString = true;
        }
        else if (b == (byte)'{')
        {
            _depth++;
        }
        else if (b == (byte)'}' && --_depth == 0)
        {
            _phase = Phase.Searching;
            ParseUsage(_capture.AsSpan(0, _captured));
        }
    }

    private void ParseUsage(ReadOnlySpan<byte> json)
    {
        long prompt = -1, completion = -1, total = -1;
        var reader = new Utf8JsonReader(json);
        try
        {
            while (reader.Read())
            {
                if (reader.TokenType != JsonTokenType.PropertyName || reader.CurrentDepth != 1)
                {
                    continue;
                }

                ref var target = ref total;
                if (reader.ValueTextEquals("prompt_tokens"u8) || reader.ValueTextEquals("input_tokens"u8))
                {
                    target = ref prompt;
                }
                else if (reader.ValueTextEquals("completion_tokens"u8) || reader.ValueTextEquals("output_tokens"u8))
                {
                    target = ref completion;
                }
                else if (!reader.ValueTextEquals("total_tokens"u8))
                {
                    reader.Skip();
                    continue;
                }

                if (reader.Read() && reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var value) && value >= 0)
                {
                    target = value;
                }
            }
        }
        catch (JsonException)
        {
            return;
        }

        if (total < 0 && prompt >= 0 && completion >= 0)
        {
            total = prompt + completion;
        }

        if (total >= 0)
        {
            PromptTokens = prompt;
            CompletionTokens = completion;
            TotalTokens = total;
        }
    }

    private void ObserveLines(byte b)
    {
        if (b == (byte)'\n')
        {
            _lineStart = true;
            _lineMatched = 0;
            _doneMatched = 0;
            return;
        }

        if (_lineStart)
        {
            if (_lineMatched < DataField.Length && b == DataField[_lineMatched])
            {
                if (++_lineMatched == DataField.Length)
                {
                    DataLines++;
                    _lineStart = false;
                    _doneMatched = 0;
                    _lineMatched = DataField.Length;
                }

                return;
            }

            _lineStart = false;
            _lineMatched = 0;
            return;
        }

        if (_lineMatched == DataField.Length && _doneMatched < Done.Length)
        {
            if (b == Done[_doneMatched])
            {
                if (++_doneMatched == Done.Length)
                {
                    DoneMarkers++;
                }
            }
            else if (b != (byte)' ' || _doneMatched != 0)
            {
                _doneMatched = Done.Length;
            }
        }
    }

    private static bool IsWhitespace(byte b) => b is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n';
}
