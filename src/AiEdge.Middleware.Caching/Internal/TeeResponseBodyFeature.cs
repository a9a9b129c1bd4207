using System.IO.Pipelines;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace AiEdge.Middleware.Internal;

/// <summary>
/// The response body feature while a cacheable endpoint runs: stream and pipe writes go through a
/// <see cref="ResponseTee"/>; starting, completing and buffering control go to the real feature.
/// </summary>
internal sealed class TeeResponseBodyFeature(IHttpResponseBodyFeature prior, ResponseTee tee) : IHttpResponseBodyFeature
{
    private static readonly StreamPipeWriterOptions WriterOptions = new(leaveOpen: true);
    private PipeWriter? _writer;

    public Stream Stream => tee;

    public PipeWriter Writer => _writer ??= PipeWriter.Create(tee, WriterOptions);

    public void DisableBuffering() => prior.DisableBuffering();

    public Task StartAsync(CancellationToken cancellationToken = default)
    {
        tee.Flush(startOnly: true);
        return tee.Swallowed ? Task.CompletedTask : prior.StartAsync(cancellationToken);
    }

    public Task SendFileAsync(string path, long offset, long? count, CancellationToken cancellationToken = default)
        => SendFileFallback.SendFileAsync(tee, path, offset, count, cancellationToken);

    public async Task CompleteAsync()
    {
        await FlushWriterAsync();
        if (!tee.Swallowed)
        {
            await prior.CompleteAsync();
        }
    }

    /// <summary>Pushes bytes still held by the pipe writer into the tee (without starting an empty response) and releases it.</summary>
    public async ValueTask FlushWriterAsync()
    {
        if (_writer is { } writer)
        {
            if (writer.CanGetUnflushedBytes && writer.UnflushedBytes > 0)
            {
                await writer.FlushAsync();
            }

            await writer.CompleteAsync();
            _writer = null;
        }
    }
}
