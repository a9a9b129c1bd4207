using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace AiEdge.Middleware.Testing;

/// <summary>
/// A misbehaving backend on a raw loopback socket. Every request asking for <c>"stream":true</c> gets an event
/// stream of <see cref="EventsBeforeAbort"/> events, after which the backend dies mid-body: it closes its side of the
/// connection without ending the chunked body. Any other request gets a JSON answer carrying headers a proxy must not
/// relay: <c>Set-Cookie</c>, <c>Connection</c> naming <c>X-Hop-Secret</c>, <c>X-Hop-Secret</c>, <c>Keep-Alive</c>,
/// <c>X-Internal-Trace</c>, <c>X-Powered-By</c>, plus the end-to-end <c>X-Request-Id</c>, which must pass.
/// </summary>
/// <remarks>
/// A raw socket rather than Kestrel: aborting a Kestrel connection drops whatever its output pipe has not yet written
/// to the socket, so the relay would sometimes see the reset before the answer's head. Here every byte is handed to
/// the kernel before the connection is shut down for sending, and TCP delivers them all before the end of stream.
/// </remarks>
public sealed class BrokenBackend : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _accepting;

    private BrokenBackend()
    {
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        BaseAddress = new Uri("http://127.0.0.1:" + ((IPEndPoint)_listener.LocalEndpoint).Port.ToString(CultureInfo.InvariantCulture) + "/");
        _accepting = AcceptAsync();
    }

    /// <summary>Gets the backend's base URL.</summary>
    public Uri BaseAddress { get; }

    /// <summary>Gets or sets how many complete events precede the abort.</summary>
    public int EventsBeforeAbort { get; set; } = 2;

    /// <summary>Gets or sets a fragment written after the complete events, before the abort (a break inside an event).</summary>
    public string? PartialEvent { get; set; }

    /// <summary>Gets or sets whether a non-streamed answer is cut short too (half a JSON body, then the abort).</summary>
    public bool AbortJson { get; set; }

    /// <summary>Starts the backend on a free loopback port.</summary>
    public static Task<BrokenBackend> StartAsync() => Task.FromResult(new BrokenBackend());

    /// <summary>
    /// Asserts that <paramref name="response"/>, relayed from this backend's JSON answer, carries none of the headers
    /// a proxy must not relay and keeps the end-to-end <c>X-Request-Id</c>.
    /// </summary>
    /// <param name="response">The relayed answer.</param>
    public static void AssertRelayedHeadersOnly(HttpResponseMessage response)
    {
        ArgumentNullException.ThrowIfNull(response);
        Xunit.Assert.False(response.Headers.Contains("Set-Cookie"));
        Xunit.Assert.False(response.Headers.Contains("X-Hop-Secret"));
        Xunit.Assert.False(response.Headers.Contains("Keep-Alive"));
        Xunit.Assert.False(response.Headers.Contains("X-Internal-Trace"));
        Xunit.Assert.False(response.Headers.Contains("X-Powered-By"));
        Xunit.Assert.DoesNotContain("X-Hop-Secret", response.Headers.Connection);
        Xunit.Assert.Equal("req-1", Xunit.Assert.Single(response.Headers.GetValues("X-Request-Id")));
    }

    /// <summary>The event the backend sends as number <paramref name="index"/>.</summary>
    public static string Event(int index)
        => "data: {\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"e" + index + "\"}}]}\n\n";

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        _listener.Stop();
        try
        {
            await _accepting;
        }
        catch (Exception exception) when (exception is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }

        _stopping.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            var socket = await _listener.AcceptSocketAsync(_stopping.Token);
            _ = AnswerAsync(socket);
        }
    }

    // One request per connection; every answer closes it.
    private async Task AnswerAsync(Socket socket)
    {
        using (socket)
        {
            try
            {
                var (path, body) = await ReadRequestAsync(socket, _stopping.Token);
                if (path.StartsWith("/health", StringComparison.Ordinal))
                {
                    await SendAsync(socket, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                }
                else if (body.Contains("\"stream\":true", StringComparison.Ordinal))
                {
                    var stream = new StringBuilder(Head("text/event-stream")).Append("Transfer-Encoding: chunked\r\n\r\n");
                    for (var i = 0; i < EventsBeforeAbort; i++)
                    {
                        Chunk(stream, Event(i));
                    }

                    if (PartialEvent is not null)
                    {
                        Chunk(stream, PartialEvent);
                    }

                    await SendAsync(socket, stream.ToString());
                }
                else
                {
                    const string Json = "{\"object\":\"chat.completion\",\"choices\":[{\"message\":{\"role\":\"assistant\",\"content\":\"hi\"}}],\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":1,\"total_tokens\":2}}";
                    var sent = AbortJson ? Json[..(Json.Length / 2)] : Json;
                    await SendAsync(socket, Head("application/json") + "Content-Length: " + Json.Length.ToString(CultureInfo.InvariantCulture) + "\r\n\r\n" + sent);
                }

                // Everything is with the kernel: the end of stream follows the last byte, never overtakes it.
                socket.Shutdown(SocketShutdown.Send);
                await DrainAsync(socket, _stopping.Token);
            }
            catch (Exception exception) when (exception is SocketException or IOException or OperationCanceledException or ObjectDisposedException)
            {
            }
        }
    }

    private static string Head(string contentType)
        => "HTTP/1.1 200 OK\r\nContent-Type: " + contentType + "\r\n"
            + "Set-Cookie: session=backend-secret; Path=/\r\nConnection: X-Hop-Secret, close\r\nX-Hop-Secret: hop\r\n"
            + "Keep-Alive: timeout=5\r\nX-Internal-Trace: gpu-7\r\nX-Powered-By: vllm\r\nX-Request-Id: req-1\r\n";

    private static void Chunk(StringBuilder stream, string data)
        => stream.Append(Encoding.UTF8.GetByteCount(data).ToString("x", CultureInfo.InvariantCulture)).Append("\r\n").Append(data).Append("\r\n");

    private static async Task SendAsync(Socket socket, string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        var sent = 0;
        while (sent < bytes.Length)
        {
            sent += await socket.SendAsync(bytes.AsMemory(sent), SocketFlags.None);
        }
    }

    // Reads until the peer closes, so the socket is closed with nothing unread (no reset).
    private static async Task DrainAsync(Socket socket, CancellationToken cancellationToken)
    {
        var buffer = new byte[1024];
        while (await socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken) > 0)
        {
        }
    }

    // A request head and its body (Content-Length or chunked), as a proxy sends them.
    private static async Task<(string Path, string Body)> ReadRequestAsync(Socket socket, CancellationToken cancellationToken)
    {
        var received = new List<byte>();
        var buffer = new byte[8192];
        int headEnd;
        while ((headEnd = IndexOf(received, "\r\n\r\n"u8, 0)) < 0)
        {
            var read = await socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken);
            if (read == 0)
            {
                throw new IOException("The request ended inside its head.");
            }

            received.AddRange(buffer.AsSpan(0, read));
        }

        var head = Encoding.Latin1.GetString(received.GetRange(0, headEnd).ToArray());
        var lines = head.Split("\r\n");
        var path = lines[0].Split(' ')[1];
        long? length = null;
        var chunked = false;
        foreach (var line in lines)
        {
            if (line.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase))
            {
                length = long.Parse(line["Content-Length:".Length..].Trim(), CultureInfo.InvariantCulture);
            }
            else if (line.StartsWith("Transfer-Encoding:", StringComparison.OrdinalIgnoreCase) && line.Contains("chunked", StringComparison.OrdinalIgnoreCase))
            {
                chunked = true;
            }
        }

        var start = headEnd + 4;
        while (!BodyComplete(received, start, length, chunked))
        {
            var read = await socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken);
            if (read == 0)
            {
                break;
            }

            received.AddRange(buffer.AsSpan(0, read));
        }

        return (path, Encoding.UTF8.GetString(received.GetRange(start, received.Count - start).ToArray()));
    }

    private static bool BodyComplete(List<byte> received, int start, long? length, bool chunked)
        => chunked ? IndexOf(received, "\r\n0\r\n\r\n"u8, start - 2) >= 0 : received.Count - start >= (length ?? 0);

    private static int IndexOf(List<byte> bytes, ReadOnlySpan<byte> value, int from)
    {
        for (var i = Math.Max(0, from); i <= bytes.Count - value.Length; i++)
        {
            var match = true;
            for (var j = 0; j < value.Length && match; j++)
            {
                match = bytes[i + j] == value[j];
            }

            if (match)
            {
                return i;
            }
        }

        return -1;
    }
}
