using System.Text;

namespace AiEdge.Middleware.Testing;

/// <summary>
/// Reads a <c>text/event-stream</c> block by block (everything up to a blank line), as the bytes arrive, comments
/// included, so tests see exactly what went over the wire and when. Every read has a timeout.
/// </summary>
public sealed class StreamingEventReader(Stream stream)
{
    private readonly byte[] _buffer = new byte[8192];
    private readonly StringBuilder _pending = new();

    /// <summary>Gets the default time a read may take before the test fails.</summary>
    public static TimeSpan DefaultTimeout { get; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Returns the next block without its terminating blank line (lines joined by <c>\n</c>; CRLF and CR read as LF),
    /// or <see langword="null"/> when the stream ended.
    /// </summary>
    public async Task<string?> ReadBlockAsync(TimeSpan? timeout = null)
    {
        using var cancel = new CancellationTokenSource(timeout ?? DefaultTimeout);
        while (true)
        {
            var text = _pending.ToString();
            var end = text.IndexOf("\n\n", StringComparison.Ordinal);
            if (end >= 0)
            {
                _pending.Remove(0, end + 2);
                return text[..end];
            }

            int read;
            try
            {
                read = await stream.ReadAsync(_buffer, cancel.Token);
            }
            catch (OperationCanceledException) when (cancel.IsCancellationRequested)
            {
                throw new TimeoutException($"No complete event within {timeout ?? DefaultTimeout}; received so far: \"{_pending}\".");
            }

            if (read == 0)
            {
                return _pending.Length == 0 ? null : Flush();
            }

            _pending.Append(Encoding.UTF8.GetString(_buffer, 0, read).Replace("\r\n", "\n", StringComparison.Ordinal).Replace('\r', '\n'));
        }
    }

    /// <summary>Waits until <paramref name="text"/> has arrived (possibly inside an unfinished block), consuming nothing.</summary>
    public async Task WaitForTextAsync(string text, TimeSpan? timeout = null)
    {
        using var cancel = new CancellationTokenSource(timeout ?? DefaultTimeout);
        while (!_pending.ToString().Contains(text, StringComparison.Ordinal))
        {
            int read;
            try
            {
                read = await stream.ReadAsync(_buffer, cancel.Token);
            }
            catch (OperationCanceledException) when (cancel.IsCancellationRequested)
            {
                throw new TimeoutException($"\"{text}\" did not arrive within {timeout ?? DefaultTimeout}; received so far: \"{_pending}\".");
            }

            if (read == 0)
            {
                throw new EndOfStreamException($"The stream ended before \"{text}\" arrived.");
            }

            _pending.Append(Encoding.UTF8.GetString(_buffer, 0, read).Replace("\r\n", "\n", StringComparison.Ordinal).Replace('\r', '\n'));
        }
    }

    /// <summary>Reads blocks until the stream ends.</summary>
    public async Task<List<string>> ReadToEndAsync(TimeSpan? timeout = null)
    {
        var blocks = new List<string>();
        while (await ReadBlockAsync(timeout) is { } block)
        {
            blocks.Add(block);
        }

        return blocks;
    }

    private string Flush()
    {
        var rest = _pending.ToString();
        _pending.Clear();
        return rest;
    }
}
