using System.IO.Pipelines;
using AiEdge.Middleware.Internal;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace AiEdge.Middleware.ReverseProxy.Internal;

/// <summary>
/// Stands in for the request's lifetime and response body features while YARP forwards one call. It follows the
/// relayed bytes to know whether the output ends between two events, and holds back the abort YARP asks for when a
/// backend breaks a started <c>text/event-stream</c>, so the stream can be ended with a final error event instead of
/// a reset connection. Any other abort goes through at once.
/// </summary>
internal sealed class ProxyCallGuard : WriteOnlyStream, IHttpRequestLifetimeFeature, IHttpResponseBodyFeature
{
    private readonly IHttpRequestLifetimeFeature _lifetime;
    private readonly IHttpResponseBodyFeature _body;
    private readonly HttpResponse _response;
    private EventBoundary _boundary;

    public ProxyCallGuard(IHttpRequestLifetimeFeature lifetime, IHttpResponseBodyFeature body, HttpResponse response)
    {
        _lifetime = lifetime;
        _body = body;
        _response = response;
    }

    /// <summary>Gets whether an abort was held back.</summary>
    public bool AbortHeld { get; private set; }

    /// <summary>Gets whether the relayed output ends between two events.</summary>
    public bool AtEventBoundary => _boundary.AtBoundary;

    public long BytesRelayed { get; private set; }

    public CancellationToken RequestAborted
    {
        get => _lifetime.RequestAborted;
        set => _lifetime.RequestAborted = value;
    }

    Stream IHttpResponseBodyFeature.Stream => this;

    PipeWriter IHttpResponseBodyFeature.Writer => _body.Writer;

    public void Abort()
    {
        if (_response.HasStarted && IsEventStream(_response.ContentType))
        {
            AbortHeld = true;
            return;
        }

        _lifetime.Abort();
    }

    public void DisableBuffering() => _body.DisableBuffering();

    public Task StartAsync(CancellationToken cancellationToken = default) => _body.StartAsync(cancellationToken);

    public Task SendFileAsync(string path, long offset, long? count, CancellationToken cancellationToken = default)
        => _body.SendFileAsync(path, offset, count, cancellationToken);

    public Task CompleteAsync() => _body.CompleteAsync();

    public override void Flush() => _body.Stream.Flush();

    public override Task FlushAsync(CancellationToken cancellationToken) => _body.Stream.FlushAsync(cancellationToken);

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        Observe(buffer);
        _body.Stream.Write(buffer);
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        Observe(buffer.Span);
        return _body.Stream.WriteAsync(buffer, cancellationToken);
    }

    private void Observe(ReadOnlySpan<byte> bytes)
    {
        BytesRelayed += bytes.Length;
        _boundary.Observe(bytes);
    }

    internal static bool IsEventStream(string? contentType)
        => contentType is not null && contentType.StartsWith("text/event-stream", StringComparison.OrdinalIgnoreCase);
}
