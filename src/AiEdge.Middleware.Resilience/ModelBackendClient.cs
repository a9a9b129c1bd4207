using System.Buffers;
using System.Net;
using AiEdge.Middleware.Resilience.Internal;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace AiEdge.Middleware.Resilience;

/// <summary>
/// A typed <see cref="HttpClient"/> for an OpenAI-compatible (or any HTTP) model backend behind a backend pool,
/// registered with <c>edge.AddModelBackendClient("name")</c>. Every call goes through the pool's breakers,
/// timeouts and replica selection and reads only the response headers before returning, so a streamed body flows
/// through unbuffered. Backend failures come back as 502, 503 (with <c>Retry-After</c>) or 504 problem responses.
/// </summary>
public sealed class ModelBackendClient
{
    private const int BufferSize = 16 * 1024;
    private static readonly string[] SkippedHeaders =
    [
        "Connection", "Keep-Alive", "Transfer-Encoding", "Upgrade", "Proxy-Connection", "TE", "Trailer", "Server", "Date",
    ];

    private readonly HttpClient _http;

    /// <summary>Creates the client over an <see cref="HttpClient"/> whose handlers include a backend pool.</summary>
    /// <param name="http">The client, as created by <c>IHttpClientFactory</c>.</param>
    public ModelBackendClient(HttpClient http)
    {
        ArgumentNullException.ThrowIfNull(http);
        _http = http;
    }

    /// <summary>Gets the underlying client.</summary>
    public HttpClient HttpClient => _http;

    /// <summary>
    /// Sends <paramref name="request"/> (its URI relative to the backend, e.g. <c>chat/completions</c>) and returns
    /// once the response headers arrived. Dispose the response.
    /// </summary>
    /// <param name="request">The request.</param>
    /// <param name="cancellationToken">Cancels the call (pass <c>HttpContext.RequestAborted</c>).</param>
    /// <returns>The backend's response, or a 502, 503 or 504 problem response of the pool.</returns>
    public Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
    }

    /// <summary>
    /// Forwards a call to the backend and relays its answer to <paramref name="context"/>: status, content headers
    /// and body, copied as it arrives (an event stream is relayed chunk by chunk, flushed each time). A pool failure
    /// is answered as problem details (503 with <c>Retry-After</c>, 502, 504); a client that goes away ends the call.
    /// </summary>
    /// <param name="context">The request being answered.</param>
    /// <param name="method">The backend call's method.</param>
    /// <param name="path">The path relative to the backend, e.g. <c>chat/completions</c>.</param>
    /// <param name="content">The body to send, if any.</param>
    /// <returns>A task that completes when the answer is relayed.</returns>
    public async Task ForwardAsync(HttpContext context, HttpMethod method, string path, HttpContent? content = null)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(method);
        ArgumentNullException.ThrowIfNull(path);
        using var request = new HttpRequestMessage(method, new Uri(path, UriKind.Relative)) { Content = content };
        HttpResponseMessage response;
        try
        {
            response = await SendAsync(request, context.RequestAborted).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            return;
        }
        catch (HttpRequestException)
        {
            await AiEdgeProblems.WriteAsync(context, StatusCodes.Status502BadGateway, "Model backend failed", "The model backend could not be reached.",
                BackendProblemResponse.TypeFor(HttpStatusCode.BadGateway)).ConfigureAwait(false);
            return;
        }

        using (response)
        {
            await RelayAsync(context, response).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Relays a backend response to <paramref name="context"/>: a pool failure as problem details, anything else
    /// with its status, headers and body copied as it arrives and flushed after every read.
    /// </summary>
    /// <param name="context">The request being answered.</param>
    /// <param name="response">The backend response (the caller disposes it).</param>
    /// <returns>A task that completes when the body is relayed or the client went away.</returns>
    public static async Task RelayAsync(HttpContext context, HttpResponseMessage response)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(response);
        if (response is BackendProblemResponse problem)
        {
            if (problem.RetryAfterSeconds is { } seconds)
            {
                context.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            }

            await AiEdgeProblems.WriteAsync(context, (int)problem.StatusCode, problem.Title, problem.Detail, BackendProblemResponse.TypeFor(problem.StatusCode)).ConfigureAwait(false);
            return;
        }

        var target = context.Response;
        target.StatusCode = (int)response.StatusCode;
        CopyHeaders(target.Headers, response.Headers);
        CopyHeaders(target.Headers, response.Content.Headers);
        var eventStream = string.Equals(response.Content.Headers.ContentType?.MediaType, "text/event-stream", StringComparison.OrdinalIgnoreCase);
        if (eventStream)
        {
            target.Headers.ContentLength = null;
            target.Headers.CacheControl = "no-cache, no-transform";
            target.Headers["X-Accel-Buffering"] = "no";
            context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        }

        var aborted = context.RequestAborted;
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            await using var body = await response.Content.ReadAsStreamAsync(aborted).ConfigureAwait(false);
            await target.StartAsync(aborted).ConfigureAwait(false);
            int read;
            while ((read = await body.ReadAsync(buffer.AsMemory(0, BufferSize), aborted).ConfigureAwait(false)) > 0)
            {
                await target.Body.WriteAsync(buffer.AsMemory(0, read), aborted).ConfigureAwait(false);
                await target.Body.FlushAsync(aborted).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            // The client went away: the backend stream is disposed with the response.
        }
        catch (Exception exception) when (exception is HttpRequestException or IOException)
        {
            // The backend broke the stream after the headers were sent: end the response abruptly so the client
            // sees a truncated body rather than a clean end.
            context.Abort();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static void CopyHeaders(IHeaderDictionary target, System.Net.Http.Headers.HttpHeaders source)
    {
        foreach (var header in source)
        {
            if (Array.IndexOf(SkippedHeaders, header.Key) >= 0 || IsSkipped(header.Key))
            {
                continue;
            }

            target[header.Key] = header.Value.ToArray();
        }
    }

    private static bool IsSkipped(string name)
    {
        foreach (var skipped in SkippedHeaders)
        {
            if (string.Equals(skipped, name, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }
}
