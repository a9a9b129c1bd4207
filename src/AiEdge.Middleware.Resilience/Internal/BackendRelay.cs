using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using AiEdge.Middleware.Internal;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;

namespace AiEdge.Middleware.Resilience.Internal;

/// <summary>
/// Relays a backend's response to the client: status, end-to-end headers (hop-by-hop ones, the headers
/// <c>Connection</c> names, <c>Set-Cookie</c>, <c>Server</c>, <c>X-Powered-By</c> and internal prefixes dropped
/// unless allowed), then the body chunk by chunk, flushed after each read. A backend that breaks the body is an
/// expected event: one Warning, one count of <c>aiedge.backend.broken_streams</c>, and the client's response ends
/// the documented way (an event stream: a final <c>event: error</c> when the break fell between two events, then a
/// clean end; any other body: a 502 problem when nothing was sent yet, else the connection is aborted so the client
/// sees a truncated answer, never a complete one).
/// </summary>
internal sealed partial class BackendRelay
{
    private const string EventStream = "text/event-stream";

    // RFC 9110 §7.6.1 and the proxy headers it lists; never relayed, whatever is allowed.
    private static readonly string[] HopByHop =
    [
        "Connection", "Keep-Alive", "Proxy-Connection", "TE", "Trailer", "Transfer-Encoding", "Upgrade",
        "Proxy-Authenticate", "Proxy-Authorization",
    ];

    // Dropped unless allowed: what identifies the backend's software or sets state on the edge's own origin.
    private static readonly string[] DeniedByDefault = ["Set-Cookie", "Server", "X-Powered-By", "Date"];

    private static readonly StringValues NoCache = "no-cache, no-transform";
    private static readonly StringValues No = "no";
    private static readonly StringValues Identity = "identity";

    private readonly HashSet<string> _allowed;
    private readonly string[] _internalPrefixes;
    private readonly ILogger _logger;
    private readonly ResilienceMetrics? _metrics;

    public BackendRelay(IOptions<ResilienceOptions> options, ResilienceMetrics metrics, ILogger<BackendRelay> logger)
        : this(options.Value.Relay, metrics, logger)
    {
    }

    private BackendRelay(BackendRelayOptions options, ResilienceMetrics? metrics, ILogger logger)
    {
        _allowed = new HashSet<string>(options.AllowedHeaders, StringComparer.OrdinalIgnoreCase);
        var prefixes = new List<string>();
        foreach (var prefix in options.InternalHeaderPrefixes)
        {
            if (!string.IsNullOrEmpty(prefix) && !prefixes.Contains(prefix, StringComparer.OrdinalIgnoreCase))
            {
                prefixes.Add(prefix);
            }
        }

        _internalPrefixes = [.. prefixes];
        _logger = logger;
        _metrics = metrics;
    }

    /// <summary>Gets the relay of an application that did not call <c>AddResilience()</c>: default headers, no metrics.</summary>
    public static BackendRelay Default { get; } = new(new BackendRelayOptions(), null, NullLogger.Instance);

    /// <summary>Gets whether <paramref name="value"/> is a non-empty RFC 9110 token (a header name).</summary>
    public static bool IsToken(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return false;
        }

        foreach (var c in value)
        {
            if (c <= ' ' || c >= 127 || "\"(),/:;<=>?@[\\]{}".Contains(c, StringComparison.Ordinal))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Gets whether <paramref name="name"/> is a hop-by-hop header, never relayed.</summary>
    public static bool IsHopByHop(string name) => Contains(HopByHop, name);

    public async Task RelayAsync(HttpContext context, HttpResponseMessage response)
    {
        if (response is BackendProblemResponse problem)
        {
            if (problem.RetryAfterSeconds is { } seconds)
            {
                context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
            }

            await AiEdgeProblems.WriteAsync(context, (int)problem.StatusCode, problem.Title, problem.Detail, BackendProblemResponse.TypeFor(problem.StatusCode)).ConfigureAwait(false);
            return;
        }

        var target = context.Response;
        target.StatusCode = (int)response.StatusCode;
        var connectionNamed = ConnectionTokens(response.Headers);
        CopyHeaders(target.Headers, response.Headers.NonValidated, connectionNamed);
        CopyHeaders(target.Headers, response.Content.Headers.NonValidated, connectionNamed);
        var eventStream = string.Equals(response.Content.Headers.ContentType?.MediaType, EventStream, StringComparison.OrdinalIgnoreCase);
        var aborted = context.RequestAborted;
        if (eventStream)
        {
            PrepareEventStream(context);
        }

        try
        {
            Stream body;
            try
            {
                body = await response.Content.ReadAsStreamAsync(aborted).ConfigureAwait(false);
            }
            catch (Exception exception) when (StreamRelay.IsUpstreamFailure(exception, aborted))
            {
                await EndBrokenAsync(context, response, new StreamRelay.Outcome(0, true, exception), eventStream).ConfigureAwait(false);
                return;
            }

            await using (body.ConfigureAwait(false))
            {
                if (eventStream)
                {
                    // The client sees the stream open (status and headers) before the first event exists.
                    await target.StartAsync(aborted).ConfigureAwait(false);
                    await target.Body.FlushAsync(aborted).ConfigureAwait(false);
                }

                var outcome = await StreamRelay.CopyAsync(body, target.Body, aborted).ConfigureAwait(false);
                if (outcome.Broken is not null)
                {
                    await EndBrokenAsync(context, response, outcome, eventStream).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            // The client went away: the backend stream is disposed with the response.
        }
    }

    private Task EndBrokenAsync(HttpContext context, HttpResponseMessage response, StreamRelay.Outcome outcome, bool eventStream)
    {
        var leased = response.Content as LeasedContent;
        var backend = leased?.BackendName ?? response.RequestMessage?.RequestUri?.Authority ?? "unknown";
        var uri = response.RequestMessage?.RequestUri?.GetLeftPart(UriPartial.Path) ?? string.Empty;
        Log.BackendStreamBroken(_logger, backend, uri, outcome.Relayed, outcome.Broken!.GetType().Name, outcome.Broken.Message);
        _metrics?.BackendStreamBroken(leased?.Breaker ?? backend, leased?.Replica);
        return StreamRelay.EndBrokenAsync(context, eventStream, outcome.AtEventBoundary, BackendProblemResponse.TypeFor(HttpStatusCode.BadGateway));
    }

    private static void PrepareEventStream(HttpContext context)
    {
        var headers = context.Response.Headers;
        headers.ContentLength = null;
        headers.CacheControl = NoCache;
        headers["X-Accel-Buffering"] = No;

        // Response compression picks its encoding when the first byte is written: identity makes it choose none.
        context.Request.Headers.AcceptEncoding = Identity;
        if (RequestFeatures.Get<IHttpsCompressionFeature>(context) is { } compression)
        {
            compression.Mode = HttpsCompressionMode.DoNotCompress;
        }

        if (RequestFeatures.Get<Microsoft.AspNetCore.Http.Timeouts.IHttpRequestTimeoutFeature>(context) is { } timeout)
        {
            timeout.DisableTimeout();
        }

        RequestFeatures.Get<IHttpResponseBodyFeature>(context)?.DisableBuffering();
    }

    private static List<string>? ConnectionTokens(HttpResponseHeaders headers)
    {
        if (!headers.NonValidated.TryGetValues("Connection", out var values))
        {
            return null;
        }

        List<string>? names = null;
        foreach (var value in values)
        {
            foreach (var part in value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                (names ??= []).Add(part);
            }
        }

        return names;
    }

    private void CopyHeaders(IHeaderDictionary target, HttpHeadersNonValidated source, List<string>? connectionNamed)
    {
        foreach (var header in source)
        {
            var name = header.Key;
            if (!IsRelayed(name, connectionNamed))
            {
                continue;
            }

            var values = header.Value;
            if (values.Count == 1)
            {
                target[name] = values.ToString();
                continue;
            }

            var array = new string[values.Count];
            var i = 0;
            foreach (var value in values)
            {
                array[i++] = value;
            }

            target[name] = array;
        }
    }

    private bool IsRelayed(string name, List<string>? connectionNamed)
    {
        if (Contains(HopByHop, name))
        {
            return false;
        }

        if (connectionNamed is not null)
        {
            foreach (var named in connectionNamed)
            {
                if (string.Equals(named, name, StringComparison.OrdinalIgnoreCase))
                {
                    return false;
                }
            }
        }

        if (_allowed.Count > 0 && _allowed.Contains(name))
        {
            return true;
        }

        if (Contains(DeniedByDefault, name))
        {
            return false;
        }

        foreach (var prefix in _internalPrefixes)
        {
            if (name.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            {
                return false;
            }
        }

        return true;
    }

    private static bool Contains(string[] names, string name)
    {
        foreach (var candidate in names)
        {
            if (string.Equals(candidate, name, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    private static partial class Log
    {
        [LoggerMessage(1613, LogLevel.Warning, "Backend {Backend} ({BackendUri}) broke the response stream after {BytesRelayed} bytes were relayed: {Error}: {Message}", EventName = "BackendStreamBroken")]
        public static partial void BackendStreamBroken(ILogger logger, string backend, string backendUri, long bytesRelayed, string error, string message);
    }
}
