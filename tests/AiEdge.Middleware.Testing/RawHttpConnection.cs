using System.Net.Sockets;
using System.Text;

namespace AiEdge.Middleware.Testing;

/// <summary>
/// One HTTP/1.1 connection over a raw loopback socket, for requests no HTTP client would send (broken chunked
/// framing, lying <c>Content-Length</c>, <c>Expect: 100-continue</c> without sending the body) and for watching
/// exactly what the server answers, interim <c>100 Continue</c> lines included.
/// </summary>
public sealed class RawHttpConnection : IAsyncDisposable
{
    private static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    private readonly TcpClient _client;
    private readonly NetworkStream _stream;
    private readonly List<byte> _received = [];

    private RawHttpConnection(TcpClient client)
    {
        _client = client;
        _stream = client.GetStream();
    }

    /// <summary>Opens a connection to the host and port of <paramref name="baseAddress"/>.</summary>
    public static async Task<RawHttpConnection> OpenAsync(Uri baseAddress)
    {
        ArgumentNullException.ThrowIfNull(baseAddress);
        var client = new TcpClient { NoDelay = true };
        await client.ConnectAsync(baseAddress.Host == "localhost" ? "127.0.0.1" : baseAddress.Host, baseAddress.Port);
        return new RawHttpConnection(client);
    }

    /// <summary>Sends <paramref name="text"/> as ASCII, exactly as written (use <c>\r\n</c> line ends).</summary>
    public Task SendAsync(string text) => SendAsync(Encoding.ASCII.GetBytes(text));

    /// <summary>Sends raw bytes.</summary>
    public async Task SendAsync(byte[] bytes)
    {
        await _stream.WriteAsync(bytes);
        await _stream.FlushAsync();
    }

    /// <summary>
    /// Sends <paramref name="bytes"/> and tells whether the server took them all; false when it had already closed or
    /// reset the connection (an answer sent before the body was read).
    /// </summary>
    public async Task<bool> TrySendAsync(byte[] bytes)
    {
        try
        {
            await SendAsync(bytes);
            return true;
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>Closes the sending half, so the server sees the request end (a truncated body).</summary>
    public void ShutdownSend() => _client.Client.Shutdown(SocketShutdown.Send);

    /// <summary>
    /// Reads the next final response (status, headers, body by <c>Content-Length</c>, chunked encoding or close),
    /// recording interim <c>1xx</c> responses read before it.
    /// </summary>
    public async Task<RawHttpResponse> ReadResponseAsync(TimeSpan? timeout = null)
    {
        using var cancellation = new CancellationTokenSource(timeout ?? DefaultTimeout);
        var interim = new List<int>();
        while (true)
        {
            var headerEnd = await FillUntilAsync(static data => IndexOf(data, "\r\n\r\n"u8), cancellation.Token);
            if (headerEnd < 0)
            {
                throw new IOException("The connection closed before a response head arrived. Received: " + Encoding.ASCII.GetString([.. _received]));
            }

            var head = Encoding.ASCII.GetString(_received.GetRange(0, headerEnd).ToArray());
            _received.RemoveRange(0, headerEnd + 4);
            var lines = head.Split("\r\n");
            var status = int.Parse(lines[0].Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
            var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            for (var i = 1; i < lines.Length; i++)
            {
                var colon = lines[i].IndexOf(':', StringComparison.Ordinal);
                headers[lines[i][..colon].Trim()] = lines[i][(colon + 1)..].Trim();
            }

            if (status < 200)
            {
                interim.Add(status);
                continue;
            }

            var body = await ReadBodyAsync(headers, cancellation.Token);
            return new RawHttpResponse(status, headers, Encoding.UTF8.GetString(body), interim);
        }
    }

    /// <summary>Whether the server closed the connection (reads end) within <paramref name="timeout"/>.</summary>
    public async Task<bool> IsClosedByServerAsync(TimeSpan timeout)
    {
        using var cancellation = new CancellationTokenSource(timeout);
        var buffer = new byte[4096];
        try
        {
            while (true)
            {
                if (await _stream.ReadAsync(buffer, cancellation.Token) == 0)
                {
                    return true;
                }
            }
        }
        catch (OperationCanceledException)
        {
            return false;
        }
        catch (IOException)
        {
            return true;
        }
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync()
    {
        _stream.Dispose();
        _client.Dispose();
        return ValueTask.CompletedTask;
    }

    private async Task<byte[]> ReadBodyAsync(Dictionary<string, string> headers, CancellationToken cancellationToken)
    {
        if (headers.TryGetValue("Content-Length", out var lengthText))
        {
            var length = int.Parse(lengthText, System.Globalization.CultureInfo.InvariantCulture);
            await FillUntilAsync(data => data.Count >= length ? length : -1, cancellationToken);
            return Take(Math.Min(length, _received.Count));
        }

        if (headers.TryGetValue("Transfer-Encoding", out var encoding) && encoding.Contains("chunked", StringComparison.OrdinalIgnoreCase))
        {
            var body = new List<byte>();
            while (true)
            {
                var lineEnd = await FillUntilAsync(static data => IndexOf(data, "\r\n"u8), cancellationToken);
                if (lineEnd < 0)
                {
                    return [.. body];
                }

                var size = Convert.ToInt32(Encoding.ASCII.GetString(Take(lineEnd)).Split(';')[0], 16);
                _received.RemoveRange(0, 2);
                if (size == 0)
                {
                    await FillUntilAsync(static data => IndexOf(data, "\r\n"u8), cancellationToken);
                    _received.RemoveRange(0, Math.Min(2, _received.Count));
                    return [.. body];
                }

                await FillUntilAsync(data => data.Count >= size + 2 ? size : -1, cancellationToken);
                body.AddRange(Take(size));
                _received.RemoveRange(0, Math.Min(2, _received.Count));
            }
        }

        // Neither: the body ends when the connection does.
        await FillUntilAsync(static _ => -1, cancellationToken);
        return Take(_received.Count);
    }

    private byte[] Take(int count)
    {
        var bytes = _received.GetRange(0, count).ToArray();
        _received.RemoveRange(0, count);
        return bytes;
    }

    /// <summary>Reads until <paramref name="found"/> answers a position (returned) or the connection ends (-1).</summary>
    private async Task<int> FillUntilAsync(Func<List<byte>, int> found, CancellationToken cancellationToken)
    {
        var buffer = new byte[8192];
        while (true)
        {
            var at = found(_received);
            if (at >= 0)
            {
                return at;
            }

            int read;
            try
            {
                read = await _stream.ReadAsync(buffer, cancellationToken);
            }
            catch (IOException)
            {
                read = 0;
            }

            if (read == 0)
            {
                return found(_received);
            }

            _received.AddRange(buffer.AsSpan(0, read));
        }
    }

    private static int IndexOf(List<byte> data, ReadOnlySpan<byte> value)
    {
        for (var i = 0; i + value.Length <= data.Count; i++)
        {
            var match = true;
            for (var j = 0; j < value.Length && match; j++)
            {
                match = data[i + j] == value[j];
            }

            if (match)
            {
                return i;
            }
        }

        return -1;
    }
}

/// <summary>A response read by <see cref="RawHttpConnection"/>.</summary>
/// <param name="StatusCode">The final status code.</param>
/// <param name="Headers">The response headers (last value of each name).</param>
/// <param name="Body">The body as UTF-8 text.</param>
/// <param name="InterimStatusCodes">The <c>1xx</c> responses that preceded it, e.g. <c>100</c>.</param>
public sealed record RawHttpResponse(int StatusCode, IReadOnlyDictionary<string, string> Headers, string Body, IReadOnlyList<int> InterimStatusCodes)
{
    /// <summary>Gets the media type of the body, without parameters.</summary>
    public string? MediaType => Headers.TryGetValue("Content-Type", out var type) ? type.Split(';')[0].Trim() : null;
}
