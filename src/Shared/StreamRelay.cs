using System.Buffers;
using Microsoft.AspNetCore.Http;

namespace AiEdge.Middleware.Internal;

/// <summary>
/// The body copy and the broken-upstream ending shared by the suite's relays (the Resilience backend relay and the
/// Streaming event-stream relay): every chunk written and flushed as soon as it is read, a failed read of the
/// upstream (an <see cref="IOException"/> or <see cref="HttpRequestException"/> while <c>token</c> is not
/// cancelled) ends the copy as a break, and a break ends the client's answer one documented way.
/// </summary>
internal static class StreamRelay
{
    private const int BufferSize = 16 * 1024;

    /// <summary>What one copy relayed, where it stopped, and the upstream failure that stopped it, if any.</summary>
    /// <param name="Relayed">The bytes written to the client.</param>
    /// <param name="AtEventBoundary">Whether the bytes written so far end between two events (or are none).</param>
    /// <param name="Broken">The upstream's failure, or <see langword="null"/> when its body ended normally.</param>
    public readonly record struct Outcome(long Relayed, bool AtEventBoundary, Exception? Broken);

    /// <summary>Whether <paramref name="exception"/>, thrown reading the upstream, is the upstream's failure.</summary>
    public static bool IsUpstreamFailure(Exception exception, CancellationToken token)
        => !token.IsCancellationRequested && exception is IOException or HttpRequestException;

    /// <summary>Copies <paramref name="source"/> to <paramref name="target"/>, flushing every chunk, until its end or its first failed read.</summary>
    public static async Task<Outcome> CopyAsync(Stream source, Stream target, CancellationToken token)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        long relayed = 0;
        var boundary = default(EventBoundary);
        try
        {
            while (true)
            {
                int read;
                try
                {
                    read = await source.ReadAsync(buffer.AsMemory(0, BufferSize), token).ConfigureAwait(false);
                }
                catch (Exception exception) when (IsUpstreamFailure(exception, token))
                {
                    return new Outcome(relayed, boundary.AtBoundary, exception);
                }

                if (read == 0)
                {
                    return new Outcome(relayed, boundary.AtBoundary, null);
                }

                await target.WriteAsync(buffer.AsMemory(0, read), token).ConfigureAwait(false);
                await target.FlushAsync(token).ConfigureAwait(false);
                relayed += read;
                boundary.Observe(buffer.AsSpan(0, read));
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// Ends the client's answer after the upstream broke (logging and counting are the caller's): a 502 problem when
    /// nothing was sent yet; for an event stream a final <c>event: error</c> when the break fell between two events
    /// (a break inside an event adds nothing: the partial event is never terminated, so an SSE parser discards it);
    /// any other body cut short is aborted, so it never looks complete.
    /// </summary>
    /// <param name="context">The client's request.</param>
    /// <param name="eventStream">Whether the answer is a <c>text/event-stream</c>.</param>
    /// <param name="atEventBoundary">Whether the bytes sent so far end between two events.</param>
    /// <param name="problemType">The 502 problem's type, or <see langword="null"/> for the status's default.</param>
    public static Task EndBrokenAsync(HttpContext context, bool eventStream, bool atEventBoundary, string? problemType)
    {
        var response = context.Response;
        if (!response.HasStarted)
        {
            response.Clear();
            return AiEdgeProblems.WriteAsync(context, StatusCodes.Status502BadGateway, "Model backend failed",
                "The model backend broke the connection while sending its answer.", problemType);
        }

        if (!eventStream)
        {
            context.Abort();
            return Task.CompletedTask;
        }

        // Between two events: one more event tells SSE clients (the OpenAI SDKs raise an APIError on it) that the
        // answer is incomplete.
        return atEventBoundary ? AiEdgeProblems.WriteBackendStreamBrokenEventAsync(response, context.RequestAborted) : Task.CompletedTask;
    }
}
