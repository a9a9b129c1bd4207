using System.Net;

namespace AiEdge.Middleware.Security.Tests;

/// <summary>A body of unknown length: sent with <c>Transfer-Encoding: chunked</c>, in several writes.</summary>
internal sealed class ChunkedContent(byte[] body, int chunk = 1024) : HttpContent
{
    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
    {
        for (var offset = 0; offset < body.Length; offset += chunk)
        {
            await stream.WriteAsync(body.AsMemory(offset, Math.Min(chunk, body.Length - offset)));
            await stream.FlushAsync();
        }
    }

    protected override bool TryComputeLength(out long length)
    {
        length = 0;
        return false;
    }
}
