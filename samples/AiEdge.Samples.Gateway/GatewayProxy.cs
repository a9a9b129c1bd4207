using AiEdge.Middleware;
using AiEdge.Middleware.Resilience;

namespace AiEdge.Samples.Gateway;

/// <summary>
/// Forwards one request to a backend pool, the way NGINX's <c>proxy_pass</c> with the usual
/// <c>proxy_set_header</c> lines does: method, path, query, body and end-to-end headers are passed on, the caller's
/// API key is not, and <c>X-Forwarded-For</c>, <c>X-Forwarded-Proto</c>, <c>X-Forwarded-Host</c> and
/// <c>X-Real-IP</c> describe the caller as the edge resolved it. Event streams are relayed event by event.
/// </summary>
public static class GatewayProxy
{
    // Hop-by-hop headers (RFC 9110 7.6.1), the caller's credentials, and headers the client stack sets itself.
    private static readonly HashSet<string> NotForwarded = new(StringComparer.OrdinalIgnoreCase)
    {
        "Connection", "Keep-Alive", "Proxy-Connection", "Transfer-Encoding", "TE", "Trailer", "Upgrade",
        "Host", "Content-Length", "Authorization", "X-API-Key", "Cookie",
        "X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host", "X-Real-IP", "Forwarded",
    };

    /// <summary>Forwards the request to <paramref name="path"/> (relative to the pool's replica URLs) and relays the answer.</summary>
    /// <param name="context">The incoming request.</param>
    /// <param name="backend">The pool to call.</param>
    /// <param name="path">The path below each replica's URL, without a leading slash.</param>
    public static async Task ForwardAsync(HttpContext context, ModelBackendClient backend, string path)
    {
        var request = context.Request;
        using var message = new HttpRequestMessage(new HttpMethod(request.Method), new Uri(path + request.QueryString.Value, UriKind.Relative));
        if (HasBody(request))
        {
            message.Content = new StreamContent(request.Body);
        }

        foreach (var header in request.Headers)
        {
            if (NotForwarded.Contains(header.Key))
            {
                continue;
            }

            if (!message.Headers.TryAddWithoutValidation(header.Key, (IEnumerable<string?>)header.Value))
            {
                message.Content?.Headers.TryAddWithoutValidation(header.Key, (IEnumerable<string?>)header.Value);
            }
        }

        // proxy_set_header X-Real-IP / X-Forwarded-For / X-Forwarded-Proto / Host: the caller as normalized by
        // the forwarded-headers stage (a spoofed X-Forwarded-For from an untrusted peer never reaches the backend).
        var client = context.Connection.RemoteIpAddress?.ToString();
        if (client is not null)
        {
            message.Headers.TryAddWithoutValidation("X-Real-IP", client);
            message.Headers.TryAddWithoutValidation("X-Forwarded-For", client);
        }

        message.Headers.TryAddWithoutValidation("X-Forwarded-Proto", request.Scheme);
        message.Headers.TryAddWithoutValidation("X-Forwarded-Host", request.Host.Value);

        HttpResponseMessage response;
        try
        {
            response = await backend.SendAsync(message, context.RequestAborted);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            return;
        }
        catch (HttpRequestException)
        {
            await AiEdgeProblems.WriteAsync(context, StatusCodes.Status502BadGateway, "Backend failed", "The backend could not be reached.");
            return;
        }

        // One relay for every answer (ModelBackendClient.RelayAsync): end-to-end headers only, token streams flushed
        // event by event, and a backend that breaks mid-stream ends the client's stream the documented way.
        using (response)
        {
            await ModelBackendClient.RelayAsync(context, response);
        }
    }

    private static bool HasBody(HttpRequest request) =>
        request.ContentLength is > 0
        || (request.ContentLength is null && request.Headers.TransferEncoding.Count > 0)
        || (request.ContentLength is null && HttpMethods.IsPost(request.Method));
}
