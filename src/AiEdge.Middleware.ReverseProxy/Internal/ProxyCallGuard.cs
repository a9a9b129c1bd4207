using System.IO.Pipelines;
using AiEdge.Middleware.Internal;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace AiEdge.Middleware.ReverseProxy.Internal;

/// <summary>
/// Stands in for the request's lifetime and response body features while YARP forwards one call. It follows the
/// relayed bytes to know whether the output ends between two events, and holds back the abort YARP asks for when a
/// backend breaks a started <c>text/event-stream</c>, so the stream can be ended with a final error event instead of
/// a reset connection. Any other abort goes through at once. It also carries the call's
/// <see cref="StreamDeadlines"/> (YARP forwards with their token; each relayed write restarts the idle timer; while
/// the first byte is awaited the response is not started, so another destination can still answer) and its
/// <see cref="UsageMeter"/> (a metered event stream is relayed event by event through it).
/// </summary>
internal sealed class ProxyCallGuard : WriteOnlyStream, IHttpRequestLifetimeFeature, IHttpResponseBodyFeature
{
    private readonly IHttpRequestLifetimeFeature _lifetime;
    private readonly IHttpResponseBodyFeature _body;
    private readonly HttpResponse _response;
    private readonly Func<ReadOnlyMemory<byte>, CancellationToken, ValueTask> _relay;
    private EventBoundary _boundary;
    private CancellationToken _attemptToken;
    private bool _metering;
    private bool _meteringDecided;

    public ProxyCallGuard(IHttpRequestLifetimeFeature lifetime, IHttpResponseBodyFeature body, HttpResponse response, StreamDeadlines? deadlines)
    {
        _lifetime = lifetime;
        _body = body;
        _response = response;
        Deadlines = deadlines;
        _relay = RelayAsync;
    }

    /// <summary>Gets whether an abort was held back.</summary>
    public bool AbortHeld { get; private set; }

    /// <summary>Gets whether the relayed output ends between two events.</summary>
    public bool AtEventBoundary => _boundary.AtBoundary;

    public long BytesRelayed { get; private set; }

    /// <summary>Gets the call's timeouts, or <see langword="null"/> when none applies.</summary>
    public StreamDeadlines? Deadlines { get; }

    /// <summary>Gets or sets the meter of a streamed call under a token budget (set by the request transform, kept across retries).</summary>
    public UsageMeter? Meter { get; set; }

    /// <summary>Gets or sets the length of the rewritten request body sent on every attempt, or <see langword="null"/> when the body was not rewritten.</summary>
    public long? RewrittenBodyLength { get; set; }

    public CancellationToken RequestAborted
    {
        get => Deadlines is null ? _lifetime.RequestAborted : _attemptToken;
        set => _lifetime.RequestAborted = value;
    }

    Stream IHttpResponseBodyFeature.Stream => this;

    PipeWriter IHttpResponseBodyFeature.Writer => _body.Writer;

    /// <summary>Starts one attempt at forwarding the call: a fresh token under the deadlines, nothing held.</summary>
    public void BeginAttempt()
    {
        AbortHeld = false;
        _meteringDecided = false;
        Meter?.Reset();
        if (Deadlines is not null)
        {
            _attemptToken = Deadlines.BeginAttempt(_lifetime.RequestAborted);
        }
    }

    /// <summary>Ends an attempt that YARP completed: hands on an unfinished last event and starts a response held back.</summary>
    public async Task CompleteAttemptAsync(bool succeeded)
    {
        Deadlines?.EndAttempt();
        if (!succeeded)
        {
            return;
        }

        if (_metering && Meter is { HasPending: true } meter)
        {
            await meter.FlushPendingAsync(_relay, _lifetime.RequestAborted).ConfigureAwait(false);
        }
    }

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

    public Task StartAsync(CancellationToken cancellationToken = default)
        => Deadlines is { AwaitsFirstByte: true } ? Task.CompletedTask : _body.StartAsync(cancellationToken);

    public Task SendFileAsync(string path, long offset, long? count, CancellationToken cancellationToken = default)
        => _body.SendFileAsync(path, offset, count, cancellationToken);

    public Task CompleteAsync() => _body.CompleteAsync();

    public override void Flush()
    {
        if (BytesRelayed > 0 || Deadlines is not { AwaitsFirstByte: true })
        {
            _body.Stream.Flush();
        }
    }

    public override Task FlushAsync(CancellationToken cancellationToken)
        => BytesRelayed > 0 || Deadlines is not { AwaitsFirstByte: true } ? _body.Stream.FlushAsync(cancellationToken) : Task.CompletedTask;

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        if (Metering())
        {
            // Synchronous writes are rare (the server disallows them by default): the metered path is asynchronous.
            WriteAsync(buffer.ToArray()).AsTask().GetAwaiter().GetResult();
            return;
        }

        Observe(buffer);
        _body.Stream.Write(buffer);
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        => Metering() ? Meter!.WriteAsync(buffer, _relay, cancellationToken) : RelayAsync(buffer, cancellationToken);

    /// <summary>Whether this attempt's answer is a successful event stream to meter (decided at its first write).</summary>
    private bool Metering()
    {
        if (!_meteringDecided)
        {
            _meteringDecided = true;
            _metering = Meter is not null && _response.StatusCode is >= 200 and < 300 && IsEventStream(_response.ContentType);
        }

        return _metering;
    }

    private ValueTask RelayAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
    {
        Observe(bytes.Span);
        return _body.Stream.WriteAsync(bytes, cancellationToken);
    }

    private void Observe(ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty)
        {
            return;
        }

        BytesRelayed += bytes.Length;
        _boundary.Observe(bytes);
        Deadlines?.Relayed();
    }

    internal static bool IsEventStream(string? contentType)
        => contentType is not null && contentType.StartsWith("text/event-stream", StringComparison.OrdinalIgnoreCase);
}
