namespace AiEdge.Middleware.Internal;

/// <summary>
/// Follows the bytes of a <c>text/event-stream</c> to know whether the output ends between two events (after a blank
/// line), the only place a heartbeat comment may go. Accepts the three SSE line endings (CRLF, LF, CR), also when a
/// CRLF is split over two writes.
/// </summary>
internal struct EventBoundary
{
    private int _terminators;   // line terminators at the end of the output, counting a CRLF once
    private bool _endsWithCr;
    private bool _written;

    /// <summary>Gets whether the output so far is empty or ends with a blank line.</summary>
    public readonly bool AtBoundary => !_written || _terminators >= 2;

    /// <summary>Takes <paramref name="bytes"/>, written after everything observed so far, into account.</summary>
    public void Observe(ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty)
        {
            return;
        }

        _written = true;
        var lastText = bytes.LastIndexOfAnyExcept((byte)'\r', (byte)'\n');
        if (lastText >= 0)
        {
            _terminators = 0;
            _endsWithCr = false;
            bytes = bytes[(lastText + 1)..];
        }

        foreach (var b in bytes)
        {
            if (b == (byte)'\n' && _endsWithCr)
            {
                _endsWithCr = false;   // the LF of a CRLF: same terminator
                continue;
            }

            _terminators++;
            _endsWithCr = b == (byte)'\r';
        }
    }
}
