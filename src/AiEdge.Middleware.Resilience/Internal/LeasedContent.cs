namespace AiEdge.Middleware.Resilience.Internal;

/// <summary>
/// Wraps a replica's response body so the replica counts the call as in flight until the body is disposed: a
/// token stream keeps its replica busy for as long as it lasts, which is what least-outstanding selection needs.
/// </summary>
internal sealed class LeasedContent : HttpContent
{
    private readonly HttpContent _inner;
    private Circuit? _circuit;

    public LeasedContent(HttpContent inner, Circuit circuit)
    {
        _inner = inner;
        _circuit = circuit;
        foreach (var header in inner.Headers)
        {
            Headers.TryAddWithoutValidation(header.Key, header.Value);
        }
    }

    protected override Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context)
        => _inner.CopyToAsync(stream);

    protected override Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context, CancellationToken cancellationToken)
        => _inner.CopyToAsync(stream, cancellationToken);

    protected override Task<Stream> CreateContentReadStreamAsync() => _inner.ReadAsStreamAsync();

    protected override Task<Stream> CreateContentReadStreamAsync(CancellationToken cancellationToken) => _inner.ReadAsStreamAsync(cancellationToken);

    protected override Stream CreateContentReadStream(CancellationToken cancellationToken) => _inner.ReadAsStream(cancellationToken);

    protected override bool TryComputeLength(out long length)
    {
        if (_inner.Headers.ContentLength is { } known)
        {
            length = known;
            return true;
        }

        length = 0;
        return false;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            Interlocked.Exchange(ref _circuit, null)?.Exit();
            _inner.Dispose();
        }

        base.Dispose(disposing);
    }
}
