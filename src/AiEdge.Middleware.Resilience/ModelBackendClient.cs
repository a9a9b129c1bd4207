using System.Net;
using AiEdge.Middleware.Resilience.Internal;
using Microsoft.AspNetCore.Http;

namespace AiEdge.Middleware.Resilience;

/// <summary>
/// A typed <see cref="HttpClient"/> for an OpenAI-compatible (or any HTTP) model backend behind a backend pool,
/// registered with <c>edge.AddModelBackendClient("name")</c>. Every call goes through the pool's breakers,
/// timeouts and replica selection and reads only the response headers before returning, so a streamed body flows
/// through unbuffered. Backend failures come back as 502, 503 (with <c>Retry-After</c>) or 504 problem responses.
/// </summary>
public sealed class ModelBackendClient
{
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
    /// Relays a backend response to <paramref name="context"/>: a pool failure as problem details, anything else with
    /// its status, its end-to-end headers (hop-by-hop headers, the headers <c>Connection</c> names, <c>Set-Cookie</c>,
    /// <c>Server</c>, <c>X-Powered-By</c> and <c>X-Internal-*</c> are dropped unless allowed under
    /// <c>AiEdge:Resilience:Relay</c>) and its body copied as it arrives, flushed after every read; an event stream
    /// gets the headers that keep proxies and compression from holding it back. A backend that breaks the body is
    /// logged once at Warning with the bytes relayed, counted (<c>aiedge.backend.broken_streams</c>, and as a failure
    /// by the replica's breaker), and the client's response ends as documented: an event stream with a final
    /// <c>event: error</c> event (when the break fell between events) and a clean end; any other body with a 502
    /// problem when nothing was sent yet, else an aborted connection.
    /// </summary>
    /// <param name="context">The request being answered.</param>
    /// <param name="response">The backend response (the caller disposes it).</param>
    /// <returns>A task that completes when the body is relayed or the client went away.</returns>
    public static Task RelayAsync(HttpContext context, HttpResponseMessage response)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(response);
        var relay = context.RequestServices?.GetService(typeof(BackendRelay)) as BackendRelay ?? BackendRelay.Default;
        return relay.RelayAsync(context, response);
    }
}
