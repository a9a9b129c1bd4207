namespace AiEdge.Middleware.Resilience.Internal;

/// <summary>
/// Wraps a replica's response body so the replica counts the call as in flight until the body is disposed: a
/// token stream keeps its replica busy for as long as it lasts, which is what least-outstanding selection needs.
/// A body that breaks after the headers (the backend resets the connection mid-stream) counts as one failure of
/// the replica's breaker, whoever reads it.
/// </summary>
internal sealed class LeasedContent : HttpContent
{
    private readonly HttpContent _inner;
    private readonly Circuit _replica;
    private Circuit? _circuit;

    public LeasedContent(HttpContent inner, Circuit circuit)
    {
        _inner = inner;
        _replica = circuit;
        _circuit = circuit;
        foreach (var header in inner.Headers)
        {
            Headers.TryAddWithoutValidation(header.Key, header.Value);
        }
    }

    /// <summary>Gets <c>pool/replica</c>, as logged.</summary>
    public string BackendName => _replica.DisplayName;

    /// <summary>Gets the pool's name, as measured.</summary>
    public string Breaker => _replica.Breaker;

    /// <summary>Gets the replica's name, as measured.</summary>
    public string? Replica => _replica.Replica;

    protected override Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context)
        => SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override async Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context, CancellationToken cancellationToken)
    {
        var source = await CreateContentReadStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (source.ConfigureAwait(false))
        {
            await source.CopyToAsync(stream, cancellationToken).ConfigureAwait(false);
        }
    }

    protected override Task<Stream> CreateContentReadStreamAsync() => CreateContentReadStreamAsync(CancellationToken.None);

    protected override async Task<Stream> CreateContentReadStreamAsync(CancellationToken cancellationToken)
        => new ReportingStream(await _inner.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false), _replica);

    protected override Stream CreateContentReadStream(CancellationToken cancellationToken)
        => new ReportingStream(_inner.ReadAsStream(cancellationToken), _replica);

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

    /// <summary>A read-only body stream that reports the first backend failure to the replica's breaker.</summary>
    private sealed class ReportingStream(Stream inner, Circuit replica) : Stream
    {
        private int _reported;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            try
            {
                return inner.Read(buffer);
            }
            catch (Exception exception) when (exception is IOException or HttpRequestException)
            {
                if (Interlocked.Exchange(ref _reported, 1) == 0)
                {
                    // The breaker's pipeline completes synchronously for an outcome that is already known.
                    replica.RecordBrokenStreamAsync().AsTask().GetAwaiter().GetResult();
                }

                throw;
            }
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
            => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            try
            {
                return await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception exception) when (!cancellationToken.IsCancellationRequested && exception is IOException or HttpRequestException)
            {
                if (Interlocked.Exchange(ref _reported, 1) == 0)
                {
                    await replica.RecordBrokenStreamAsync().ConfigureAwait(false);
                }

                throw;
            }
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override ValueTask DisposeAsync() => inner.DisposeAsync();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
