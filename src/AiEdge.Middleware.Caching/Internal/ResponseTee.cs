using AiEdge.Middleware.Internal;
using System.Buffers;
using System.IO.Pipelines;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace AiEdge.Middleware.Caching.Internal;

/// <summary>
/// Stands in for the response body (stream and feature in one object) while the endpoint runs: every write goes
/// to the real body as it would without the cache (stream writes at once, pipe writes into the real writer's own
/// buffers, flushed when the endpoint flushes) and a copy is kept, in a pooled buffer, up to a limit. Starting,
/// completing and buffering control go to the real feature. When a stale entry may replace a server error, a
/// response that starts with a 5xx status is swallowed instead of sent.
/// </summary>
internal sealed class ResponseTee(HttpContext context, IHttpResponseBodyFeature prior, long maxCopy, bool swallowServerErrors)
    : WriteOnlyStream, IHttpResponseBodyFeature
{
    private readonly Stream _inner = prior.Stream;
    private byte[] _copy = ArrayPool<byte>.Shared.Rent(4096);
    private int _copied;
    private TeeWriter? _writer;
    private bool _decided;

    /// <summary>Gets whether the response outgrew the copy limit (it was still sent in full).</summary>
    public bool Overflowed { get; private set; }

    /// <summary>Gets whether a 5xx response was swallowed (nothing reached the client).</summary>
    public bool Swallowed { get; private set; }

    /// <summary>Gets the copy of what was written.</summary>
    public ReadOnlySpan<byte> Copy => _copy.AsSpan(0, _copied);

    Stream IHttpResponseBodyFeature.Stream => this;

    PipeWriter IHttpResponseBodyFeature.Writer => _writer ??= new TeeWriter(this, prior.Writer);

    void IHttpResponseBodyFeature.DisableBuffering() => prior.DisableBuffering();

    Task IHttpResponseBodyFeature.StartAsync(CancellationToken cancellationToken)
    {
        Decide();
        return Swallowed ? Task.CompletedTask : prior.StartAsync(cancellationToken);
    }

    Task IHttpResponseBodyFeature.SendFileAsync(string path, long offset, long? count, CancellationToken cancellationToken)
        => SendFileFallback.SendFileAsync(this, path, offset, count, cancellationToken);

    Task IHttpResponseBodyFeature.CompleteAsync() => Swallowed ? Task.CompletedTask : prior.CompleteAsync();

    public override void Flush()
    {
        Decide();
        if (!Swallowed)
        {
            _inner.Flush();
        }
    }

    public override Task FlushAsync(CancellationToken cancellationToken)
    {
        Decide();
        return Swallowed ? Task.CompletedTask : _inner.FlushAsync(cancellationToken);
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        if (Keep(buffer))
        {
            _inner.Write(buffer);
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        => Keep(buffer.Span) ? _inner.WriteAsync(buffer, cancellationToken) : ValueTask.CompletedTask;

    /// <summary>Returns the pooled copy.</summary>
    public void Release()
    {
        var copy = _copy;
        _copy = [];
        _copied = 0;
        if (copy.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(copy);
        }
    }

    private bool Keep(ReadOnlySpan<byte> data)
    {
        Decide();
        if (Swallowed)
        {
            return false;
        }

        if (!Overflowed)
        {
            if (_copied + (long)data.Length > maxCopy)
            {
                Overflowed = true;
            }
            else
            {
                if (_copy.Length - _copied < data.Length)
                {
                    var larger = ArrayPool<byte>.Shared.Rent(Math.Max(_copy.Length * 2, _copied + data.Length));
                    _copy.AsSpan(0, _copied).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(_copy);
                    _copy = larger;
                }

                data.CopyTo(_copy.AsSpan(_copied));
                _copied += data.Length;
            }
        }

        return true;
    }

    private void Decide()
    {
        if (!_decided)
        {
            _decided = true;
            Swallowed = swallowServerErrors && context.Response.StatusCode >= StatusCodes.Status500InternalServerError;
        }
    }

    /// <summary>
    /// The tee's pipe writer: the endpoint writes straight into the real writer's memory (no copy through a stream,
    /// no extra flush) and each <see cref="Advance"/> copies what was just written. A swallowed response is written
    /// into scratch memory and dropped.
    /// </summary>
    private sealed class TeeWriter(ResponseTee owner, PipeWriter inner) : PipeWriter
    {
        private Memory<byte> _memory;
        private byte[]? _scratch;

        public override bool CanGetUnflushedBytes => inner.CanGetUnflushedBytes;

        public override long UnflushedBytes => inner.UnflushedBytes;

        public override Memory<byte> GetMemory(int sizeHint = 0)
        {
            owner.Decide();
            if (!owner.Swallowed)
            {
                return _memory = inner.GetMemory(sizeHint);
            }

            if (_scratch is null || _scratch.Length < sizeHint)
            {
                _scratch = new byte[Math.Max(sizeHint, 4096)];
            }

            return _memory = _scratch;
        }

        public override Span<byte> GetSpan(int sizeHint = 0) => GetMemory(sizeHint).Span;

        public override void Advance(int bytes)
        {
            ArgumentOutOfRangeException.ThrowIfGreaterThan(bytes, _memory.Length);
            var written = _memory.Span[..bytes];
            _memory = default;
            if (owner.Keep(written))
            {
                inner.Advance(bytes);
            }
        }

        public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
        {
            owner.Decide();
            return owner.Swallowed ? ValueTask.FromResult(default(FlushResult)) : inner.FlushAsync(cancellationToken);
        }

        public override void CancelPendingFlush() => inner.CancelPendingFlush();

        // The real writer belongs to the server, which completes it at the end of the request.
        public override void Complete(Exception? exception = null)
        {
        }
    }
}
