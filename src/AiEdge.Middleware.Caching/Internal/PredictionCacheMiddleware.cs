using System.Buffers;
using System.Text;
using AiEdge.Middleware.Internal;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;

namespace AiEdge.Middleware.Caching.Internal;

/// <summary>
/// The prediction cache, wiring its parts: reads and keys the request (<see cref="CacheLookup"/>; JSON bodies that
/// repeat a member name have no key and are refused), answers a hit, lets <see cref="RequestCoalescer"/> decide who
/// runs an identical miss, runs the endpoint and records what it answered (a completed event stream included) and
/// serves a stale entry when the endpoint fails.
/// </summary>
internal sealed class PredictionCacheMiddleware
{
    private const string DuplicateMemberDetail = "An object in the request body has the same member name twice (after unescaping); send each member once (RFC 7493, I-JSON).";
    private const string DuplicateMemberDetailIgnoringCase = "An object in the request body has the same member name twice (after unescaping, compared case-insensitively as this API reads JSON); send each member once (RFC 7493, I-JSON).";

    private readonly RequestDelegate _next;
    private readonly CachePolicyRegistry _policies;
    private readonly CacheLookup _lookup;
    private readonly RequestCoalescer _coalescer;
    private readonly TimeProvider _time;
    private readonly CachingMetrics _metrics;
    private readonly ILogger _logger;
    private readonly int _maxRequestBody;
    private readonly long _maxResponseBody;
    private readonly byte[] _terminalEvent;
    private readonly bool _ignoreCase;

    public PredictionCacheMiddleware(
        RequestDelegate next,
        IOptions<PredictionCacheOptions> options,
        CachePolicyRegistry policies,
        MemoryResponseCache memory,
        SharedCacheLevel level,
        TimeProvider time,
        CachingMetrics metrics,
        IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json,
        ILogger<PredictionCacheMiddleware> logger)
    {
        var value = options.Value;
        _next = next;
        _policies = policies;
        _lookup = new CacheLookup(memory, level, time, logger);
        _coalescer = new RequestCoalescer(_lookup, level.Store, value.Coalescing, value.CoalescingTimeout, time, metrics, logger);
        _time = time;
        _metrics = metrics;
        _logger = logger;
        _maxRequestBody = (int)value.MaxRequestBodySize;
        _maxResponseBody = value.MaxResponseBodySize;
        _terminalEvent = Encoding.UTF8.GetBytes(value.StreamTerminalEvent.Trim());

        // Member names are compared the way the endpoints' JSON binding compares them (minimal APIs bind with these
        // options; JsonSerializerDefaults.Web, their default and MVC's, is case-insensitive).
        _ignoreCase = json.Value.SerializerOptions.PropertyNameCaseInsensitive;
    }

    public Task InvokeAsync(HttpContext context)
    {
        var metadata = RequestFeatures.Endpoint(context)?.Metadata.GetMetadata<IPredictionCacheMetadata>();
        if (metadata is null)
        {
            return _next(context);
        }

        var policy = _policies.Find(metadata.PolicyName)
            ?? throw new InvalidOperationException($"The prediction cache policy '{metadata.PolicyName}' is not configured under AiEdge:Caching:Policies:{metadata.PolicyName}.");
        return InvokeCachedAsync(context, policy);
    }

    private async Task InvokeCachedAsync(HttpContext context, ResolvedCachePolicy policy)
    {
        var request = context.Request;
        ReadClientDirectives(request.Headers.CacheControl, out var noStore, out var noCache);
        if (noStore && !policy.IgnoreClientNoStore)
        {
            await BypassAsync(context, "no_store");
            return;
        }

        var callerId = context.GetCallerId();
        if (callerId is null && policy.Anonymous == AnonymousCaching.Bypass)
        {
            await BypassAsync(context, "anonymous");
            return;
        }

        if (request.ContentLength > _maxRequestBody)
        {
            await BypassAsync(context, "body_too_large");
            return;
        }

        var original = request.Body;
        byte[] buffer;
        int length;
        bool complete;
        try
        {
            (buffer, length, complete) = await BufferedRequestBody.ReadAsync(original, request.ContentLength, _maxRequestBody, context.RequestAborted);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            _metrics.ClientDisconnected("cache");
            return;
        }

        request.Body = new BufferedRequestBody(buffer, length, complete ? null : original);
        try
        {
            if (!complete)
            {
                await BypassAsync(context, "body_too_large");
                return;
            }

            switch (CacheLookup.ComputeKey(context, policy, callerId, buffer.AsMemory(0, length), _ignoreCase, out var key))
            {
                case JsonCanonicalResult.NotJson:
                    await BypassAsync(context, "invalid_json");
                    return;
                case JsonCanonicalResult.DuplicateMember when policy.DuplicateMembers == DuplicateJsonMembers.Bypass:
                    await BypassAsync(context, "duplicate_member");
                    return;
                case JsonCanonicalResult.DuplicateMember:
                    await RejectDuplicateMemberAsync(context);
                    return;
            }

            await ServeAsync(context, policy, key, revalidate: noCache && !policy.IgnoreClientNoCache);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            PredictionCacheLog.ClientGone(_logger);
            _metrics.ClientDisconnected("cache");
        }
        finally
        {
            request.Body = original;
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private Task RejectDuplicateMemberAsync(HttpContext context)
    {
        PredictionCacheLog.DuplicateMemberRejected(_logger);
        _metrics.CacheResult(context, "rejected");
        return AiEdgeProblems.WriteAsync(
            context,
            StatusCodes.Status400BadRequest,
            "Duplicate JSON member name",
            _ignoreCase ? DuplicateMemberDetailIgnoringCase : DuplicateMemberDetail);
    }

    private Task BypassAsync(HttpContext context, string reason)
    {
        PredictionCacheLog.Bypassed(_logger, reason);
        context.Response.Headers[ResponseRecorder.XCache] = ResponseRecorder.Bypass;
        _metrics.CacheResult(context, "bypass");
        return _next(context);
    }

    private async Task ServeAsync(HttpContext context, ResolvedCachePolicy policy, CacheKey key, bool revalidate)
    {
        var admission = await _coalescer.AdmitAsync(key, revalidate, context.RequestAborted);
        if (admission.Hit is not null)
        {
            await ServeHitAsync(context, policy, admission.Hit, admission.Now);
            return;
        }

        CachedResponse? stored = null;
        var lifetime = RequestFeatures.Get<IHttpRequestLifetimeFeature>(context);
        var run = _coalescer.BeginRun(key, admission, context);
        try
        {
            stored = await RunAsync(context, policy, key, admission.Stale, revalidate);
        }
        finally
        {
            if (run is not null)
            {
                _coalescer.EndRun(key, run, context, lifetime!);
            }

            await _coalescer.CompleteAsync(key, admission, stored);
        }
    }

    /// <summary>Answers from <paramref name="entry"/>, fresh at <paramref name="now"/>, and counts the hit.</summary>
    private Task ServeHitAsync(HttpContext context, ResolvedCachePolicy policy, CachedResponse entry, DateTimeOffset now)
    {
        _metrics.CacheResult(context, "hit");
        return ResponseRecorder.WriteAsync(context, entry, ResponseRecorder.Hit, policy.SendAge, now);
    }

    /// <summary>Runs the endpoint and keeps its answer in the first level; returns the entry for the second level, if any.</summary>
    private async ValueTask<CachedResponse?> RunAsync(HttpContext context, ResolvedCachePolicy policy, CacheKey key, CachedResponse? stale, bool revalidate)
    {
        var response = context.Response;
        var headersBefore = ResponseRecorder.RentHeaderNames(response.Headers, out var headersBeforeCount);
        response.Headers[ResponseRecorder.XCache] = ResponseRecorder.Miss;
        var prior = RequestFeatures.Get<IHttpResponseBodyFeature>(context)!;
        var tee = new ResponseTee(context, prior, _maxResponseBody, swallowServerErrors: stale is not null);
        RequestFeatures.Set<IHttpResponseBodyFeature>(context, tee);
        var failed = false;
        try
        {
            try
            {
                await _next(context);
            }
            catch (Exception exception) when (stale is not null && !response.HasStarted && !context.RequestAborted.IsCancellationRequested)
            {
                PredictionCacheLog.EndpointFailed(_logger, exception);
                failed = true;
            }
            finally
            {
                RequestFeatures.Set(context, prior);
            }

            if (stale is not null && (failed || tee.Swallowed || (response.StatusCode >= StatusCodes.Status500InternalServerError && !response.HasStarted)))
            {
                RemoveHeadersSince(response.Headers, headersBefore.AsSpan(0, headersBeforeCount));
                _metrics.CacheResult(context, "stale");
                PredictionCacheLog.ServedStale(_logger, response.StatusCode);
                await ResponseRecorder.WriteAsync(context, stale, ResponseRecorder.Stale, policy.SendAge, _time.GetUtcNow());
                return null;
            }

            _metrics.CacheResult(context, revalidate ? "revalidated" : "miss");
            if (context.RequestAborted.IsCancellationRequested || !IsStorable(response, tee))
            {
                return null;
            }

            int[]? eventEnds = null;
            if (IsEventStream(response.ContentType))
            {
                eventEnds = ResponseRecorder.FindCompletedEvents(tee.Copy, _terminalEvent);
                if (eventEnds is null)
                {
                    PredictionCacheLog.StreamNotStored(_logger);
                    return null;
                }
            }

            var entry = ResponseRecorder.Record(response, headersBefore.AsSpan(0, headersBeforeCount), tee.Copy, eventEnds, _time.GetUtcNow(), policy.Duration, policy.StaleIfError);
            _lookup.SetLocal(key, entry);
            return entry;
        }
        finally
        {
            tee.Release();
            ResponseRecorder.ReturnHeaderNames(headersBefore);
        }
    }

    private static bool IsStorable(HttpResponse response, ResponseTee tee)
    {
        if (tee.Overflowed || tee.Swallowed || response.StatusCode is < 200 or > 299 or 206)
        {
            return false;
        }

        var cacheControl = response.Headers.CacheControl;
        foreach (var value in cacheControl)
        {
            if (value is not null
                && (value.Contains("no-store", StringComparison.OrdinalIgnoreCase) || value.Contains("private", StringComparison.OrdinalIgnoreCase)))
            {
                return false;
            }
        }

        return true;
    }

    private static void ReadClientDirectives(StringValues cacheControl, out bool noStore, out bool noCache)
    {
        noStore = false;
        noCache = false;
        foreach (var value in cacheControl)
        {
            if (value is null)
            {
                continue;
            }

            noStore |= value.Contains("no-store", StringComparison.OrdinalIgnoreCase);
            noCache |= value.Contains("no-cache", StringComparison.OrdinalIgnoreCase);
        }
    }

    private static bool IsEventStream(string? contentType)
        => contentType is not null && contentType.StartsWith("text/event-stream", StringComparison.OrdinalIgnoreCase);

    private static void RemoveHeadersSince(IHeaderDictionary headers, ReadOnlySpan<string> before)
    {
        List<string>? added = null;
        foreach (var header in headers)
        {
            if (before.IndexOf(header.Key) < 0)
            {
                (added ??= []).Add(header.Key);
            }
        }

        if (added is not null)
        {
            foreach (var name in added)
            {
                headers.Remove(name);
            }
        }
    }
}
