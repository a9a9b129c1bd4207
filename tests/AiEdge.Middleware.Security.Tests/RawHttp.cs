using System.Net.Sockets;
using System.Text;

namespace AiEdge.Middleware.Security.Tests;

/// <summary>Sends bytes a well-behaved client would never send, and reads the status line and headers back.</summary>
internal static class RawHttp
{
    public sealed record Answer(int Status, Dictionary<string, string> Headers, string Head);

    public static async Task<Answer> SendAsync(Uri baseAddress, string request, byte[]? trailer = null)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var client = new TcpClient();
        await client.ConnectAsync(baseAddress.Host, baseAddress.Port, timeout.Token);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.Latin1.GetBytes(request), timeout.Token);
        if (trailer is not null)
        {
            await stream.WriteAsync(trailer, timeout.Token);
        }

        var received = new MemoryStream();
        var buffer = new byte[8192];
        while (true)
        {
            var read = await stream.ReadAsync(buffer, timeout.Token);
            if (read == 0)
            {
                break;
            }

            received.Write(buffer, 0, read);
            var text = Encoding.Latin1.GetString(received.GetBuffer(), 0, (int)received.Length);
            if (text.Contains("\r\n\r\n", StringComparison.Ordinal))
            {
                break;
            }
        }

        var head = Encoding.Latin1.GetString(received.GetBuffer(), 0, (int)received.Length);
        var end = head.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        head = end >= 0 ? head[..end] : head;
        var lines = head.Split("\r\n");
        var status = int.Parse(lines[0].Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var line in lines.Skip(1))
        {
            var colon = line.IndexOf(':');
            if (colon > 0)
            {
                var name = line[..colon].Trim();
                var value = line[(colon + 1)..].Trim();
                headers[name] = headers.TryGetValue(name, out var existing) ? existing + ", " + value : value;
            }
        }

        return new Answer(status, headers, head);
    }
}
