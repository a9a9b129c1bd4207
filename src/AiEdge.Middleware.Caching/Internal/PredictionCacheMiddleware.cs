using AiEdge.Middleware.Internal;
using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using AiEdge.Middleware.Caching;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;

namespace AiEdge.Middleware.Caching.Internal;

/// <summary>
/// The prediction cache: keys the request (method, route, path, query, vary-by headers, caller partition, content
/// type, canonical body), refuses JSON bodies that repeat a member name (they have no key), answers hits from L1 or
/// L2, coalesces identical misses behind one run, stores what the endpoint answered (a completed event stream
/// included) and serves stale entries when the endpoint fails.
/// </summary>
internal sealed partial class PredictionCacheMiddleware
{
    private const string DistributedPrefix = "aiedge:cache:";
    private const string DuplicateMemberDetail = "An object in the request body has the same member name twice (after unescaping); send each member once (RFC 7493, I-JSON).";
    private const string DuplicateMemberDetailIgnoringCase = "An object in the request body has the same member name twice (after unescaping, compared case-insensitively as this API reads JSON); send each member once (RFC 7493, I-JSON).";

    // v2: the content type joined the key, JSON members got a tag of their own and names are compared unescaped.
    private static readonly byte[] KeyVersion = "aiedge-cache-v2"u8.ToArray();

    [ThreadStatic]
    private static PooledByteWriter? t_keyWriter;

    private readonly RequestDelegate _next;
    private readonly CachePolicyRegistry _policies;
    private readonly MemoryResponseCache _memory;
    private readonly ICacheLock _lock;
    private readonly InMemoryCacheLock? _memoryLock;
    private readonly ISharedCacheLock? _sharedLock;
    private readonly IDistributedCache? _distributed;
    private readonly TimeProvider _time;
    private readonly CachingMetrics _metrics;
    private readonly ILogger _logger;
    private readonly int _maxRequestBody;
    private readonly long _maxResponseBody;
    private readonly bool _coalescing;
    private readonly TimeSpan _coalescingTimeout;
    private readonly byte[] _terminalEvent;
    private readonly bool _ignoreCase;

    public PredictionCacheMiddleware(
        RequestDelegate next,
        IOptions<PredictionCacheOptions> options,
        CachePolicyRegistry policies,
        MemoryResponseCache memory,
        ICacheLock cacheLock,
        IServiceProvider services,
        TimeProvider time,
        CachingMetrics metrics,
        IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json,
        ILogger<PredictionCacheMiddleware> logger)
    {
        var value = options.Value;
        _next = next;
        _policies = policies;
        _memory = memory;
        _lock = cacheLock;
        _memoryLock = cacheLock as InMemoryCacheLock;
        _distributed = value.UseDistributedCache ? services.GetService<IDistributedCache>() : null;
        _time = time;
        _metrics = metrics;
        _logger = logger;
        _maxRequestBody = (int)value.MaxRequestBodySize;
        _maxResponseBody = value.MaxResponseBodySize;
        _coalescing = value.Coalescing;
        _coalescingTimeout = value.CoalescingTimeout;
        _sharedLock = _coalescing && _distributed is not null && cacheLock is ISharedCacheLock shared && shared.Shares(_distributed) ? shared : null;
        _terminalEvent = Encoding.UTF8.GetBytes(value.StreamTerminalEvent.Trim());

        // Member names are compared the way the endpoints' JSON binding compares them (minimal APIs bind with these
        // options; JsonSerializerDefaults.Web, their default and MVC's, is case-insensitive).
        _ignoreCase = json.Value.SerializerOptions.PropertyNameCaseInsensitive;
    }

    public Task InvokeAsync(HttpContext context)
    {
        var metadata = context.GetEndpoint()?.Metadata.GetMetadata<IPredictionCacheMetadata>();
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

            switch (ComputeKey(context, policy, callerId, buffer.AsMemory(0, length), _ignoreCase, out var key))
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
            Log.ClientGone(_logger);
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
        Log.DuplicateMemberRejected(_logger);
        _metrics.CacheResult(context, "rejected");
        return AiEdgeProblems.WriteAsync(
            context,
            StatusCodes.Status400BadRequest,
            "Duplicate JSON member name",
            _ignoreCase ? DuplicateMemberDetailIgnoringCase : DuplicateMemberDetail);
    }

    private Task BypassAsync(HttpContext context, string reason)
    {
        Log.Bypassed(_logger, reason);
        context.Response.Headers[ResponseRecorder.XCache] = ResponseRecorder.Bypass;
        _metrics.CacheResult(context, "bypass");
        return _next(context);
    }

    private async Task ServeAsync(HttpContext context, ResolvedCachePolicy policy, CacheKey key, bool revalidate)
    {
        var aborted = context.RequestAborted;
        CachedResponse? stale = null;

        // The in-process lock is keyed by the hash itself with a numeric owner (no strings per request); a
        // shared lock (Redis) gets the hex key and a unique owner string.
        var memoryLock = _memoryLock;
        string? lockKey = null;
        string? owner = null;
        long token = 0;
        var holding = false;

        // A shared lock beside the second level reads the entry and, when there is none, takes the lock in one call.
        // An entry it cannot serve (unreadable, or past serving even stale) stops the lock being tried with the read.
        var shared = revalidate ? null : _sharedLock;
        if (!revalidate)
        {
            var cached = _memory.Get(key);
            if (cached is null && shared is not null)
            {
                lockKey = key.ToString();
                owner = Guid.NewGuid().ToString("N");
                var lookup = await shared.GetOrAcquireAsync(DistributedKey(lockKey), lockKey, owner, _coalescingTimeout, aborted);
                holding = lookup.Acquired;
                cached = FromDistributed(key, lookup.Entry);
                if (cached is null && lookup.Entry is not null)
                {
                    shared = null;
                }
            }
            else
            {
                cached ??= await GetDistributedAsync(key, aborted);
            }

            if (cached is not null)
            {
                var now = _time.GetUtcNow();
                if (cached.ExpiresAt > now)
                {
                    await ServeHitAsync(context, policy, cached, now);
                    return;
                }

                stale = cached.StaleUntil > now ? cached : null;
            }
        }

        if (_coalescing && !holding)
        {
            if (memoryLock is null)
            {
                lockKey ??= key.ToString();
                owner ??= Guid.NewGuid().ToString("N");
            }
            else
            {
                token = memoryLock.NewOwnerToken();
            }

            var coalesced = false;
            while (true)
            {
                bool acquired;
                bool released;
                try
                {
                    if (memoryLock is not null)
                    {
                        acquired = memoryLock.TryAcquire(key, token, _coalescingTimeout);
                    }
                    else if (shared is not null && stale is null)
                    {
                        // The holder may have finished since the entry was last read: reading it again in the same
                        // call as the lock, a request never runs the endpoint for an entry that was just stored.
                        var lookup = await shared.GetOrAcquireAsync(DistributedKey(lockKey!), lockKey!, owner!, _coalescingTimeout, aborted);
                        acquired = lookup.Acquired;
                        var found = FromDistributed(key, lookup.Entry);
                        if (found is not null)
                        {
                            var foundAt = _time.GetUtcNow();
                            if (found.ExpiresAt > foundAt)
                            {
                                await ServeHitAsync(context, policy, found, foundAt);
                                return;
                            }

                            // Stale: an entry is there, so the lock was not tried; the next try takes it directly.
                            stale = found;
                            continue;
                        }

                        if (lookup.Entry is not null)
                        {
                            shared = null;
                            continue;
                        }
                    }
                    else
                    {
                        acquired = await _lock.TryAcquireAsync(lockKey!, owner!, _coalescingTimeout, aborted);
                    }

                    if (acquired)
                    {
                        holding = true;
                        break;
                    }

                    if (!coalesced)
                    {
                        coalesced = true;
                        _metrics.CacheCoalesced();
                        Log.Coalesced(_logger);
                    }

                    released = memoryLock is null
                        ? await _lock.WaitAsync(lockKey!, _coalescingTimeout, aborted)
                        : await memoryLock.WaitAsync(key, _coalescingTimeout, aborted);
                }
                catch (Exception exception) when (exception is not OperationCanceledException)
                {
                    Log.LockFailed(_logger, exception);
                    break;
                }

                // After a release, a shared lock's next try reads the second level in the same call as the lock, so
                // only the first level is checked here.
                var readWithNextTry = released && shared is not null && stale is null;
                var fresh = _memory.Get(key) ?? (readWithNextTry ? null : await GetDistributedAsync(key, aborted));
                var now = _time.GetUtcNow();
                if (fresh is not null && fresh.ExpiresAt > now)
                {
                    await ServeHitAsync(context, policy, fresh, now);
                    return;
                }

                if (fresh is not null && fresh.StaleUntil > now)
                {
                    stale = fresh;
                }

                if (!released)
                {
                    // proxy_cache_lock_timeout: run without the lock rather than wait forever.
                    break;
                }
            }
        }

        CachedResponse? stored = null;
        try
        {
            stored = await RunAsync(context, policy, key, stale, revalidate);
        }
        finally
        {
            // The second level is written before the lock is released: a waiter the release wakes finds the entry.
            var storedWithRelease = false;
            if (stored is not null)
            {
                storedWithRelease = holding && memoryLock is null && _sharedLock is not null
                    && await SetDistributedAndReleaseAsync(key, stored, lockKey!, owner!);
                if (!storedWithRelease)
                {
                    await SetDistributedAsync(key, stored);
                }
            }

            if (holding && !storedWithRelease)
            {
                try
                {
                    if (memoryLock is null)
                    {
                        await _lock.ReleaseAsync(lockKey!, owner!, CancellationToken.None);
                    }
                    else
                    {
                        memoryLock.Release(key, token);
                    }
                }
                catch (Exception exception)
                {
                    Log.LockFailed(_logger, exception);
                }
            }
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
        var prior = context.Features.GetRequiredFeature<IHttpResponseBodyFeature>();
        var tee = new ResponseTee(context, prior, _maxResponseBody, swallowServerErrors: stale is not null);
        context.Features.Set<IHttpResponseBodyFeature>(tee);
        var failed = false;
        try
        {
            try
            {
                await _next(context);
            }
            catch (Exception exception) when (stale is not null && !response.HasStarted && !context.RequestAborted.IsCancellationRequested)
            {
                Log.EndpointFailed(_logger, exception);
                failed = true;
            }
            finally
            {
                context.Features.Set(prior);
            }

            if (stale is not null && (failed || tee.Swallowed || (response.StatusCode >= StatusCodes.Status500InternalServerError && !response.HasStarted)))
            {
                RemoveHeadersSince(response.Headers, headersBefore.AsSpan(0, headersBeforeCount));
                _metrics.CacheResult(context, "stale");
                Log.ServedStale(_logger, response.StatusCode);
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
                    Log.StreamNotStored(_logger);
                    return null;
                }
            }

            var entry = ResponseRecorder.Record(response, headersBefore.AsSpan(0, headersBeforeCount), tee.Copy, eventEnds, _time.GetUtcNow(), policy.Duration, policy.StaleIfError);
            _memory.Set(key, entry);
            return entry;
        }
        finally
        {
            tee.Release();
            ResponseRecorder.ReturnHeaderNames(headersBefore);
        }
    }

    /// <summary>
    /// The entry's key: SHA-256 over the request's method, route, path, varied query and headers, the content type,
    /// the tenant (the source-qualified caller id, else the client address or the shared anonymous mark, each behind
    /// its own tag byte), the policy and the canonical body, every variable part length-prefixed. Returns
    /// <see cref="JsonCanonicalResult.Written"/> with the key, or says why there is none: a body that is not JSON under
    /// <see cref="InvalidJsonHandling.Bypass"/>, or one that repeats a member name (compared ignoring case when
    /// <paramref name="ignoreCase"/>, as the app's JSON binding compares names).
    /// </summary>
    internal static JsonCanonicalResult ComputeKey(HttpContext context, ResolvedCachePolicy policy, string? callerId, ReadOnlyMemory<byte> body, bool ignoreCase, out CacheKey key)
    {
        // Computing the key never awaits, so one writer object per thread serves every request.
        var writer = t_keyWriter ??= new PooledByteWriter(0);
        writer.Reopen(body.Length + 512);
        try
        {
            return ComputeKey(context, policy, callerId, body, writer, ignoreCase, out key);
        }
        finally
        {
            writer.Dispose();
        }
    }

    private static JsonCanonicalResult ComputeKey(HttpContext context, ResolvedCachePolicy policy, string? callerId, ReadOnlyMemory<byte> body, PooledByteWriter writer, bool ignoreCase, out CacheKey key)
    {
        var request = context.Request;
        writer.WriteBlock(KeyVersion);
        writer.WriteString(request.Method);
        writer.WriteString((context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText);
        writer.WriteString(request.PathBase.Value);
        writer.WriteString(request.Path.Value);
        if (policy.VaryByQuery.Length == 0)
        {
            writer.WriteString(request.QueryString.Value);
        }
        else
        {
            var query = request.Query;
            foreach (var name in policy.VaryByQuery)
            {
                writer.WriteString(name);
                WriteValues(writer, query[name]);
            }
        }

        foreach (var name in policy.VaryByHeaders)
        {
            writer.WriteString(name);
            WriteValues(writer, request.Headers[name]);
        }

        if (callerId is not null)
        {
            writer.Write((byte)'u');
            writer.WriteString(callerId);
        }
        else if (policy.Anonymous == AnonymousCaching.PerClientAddress)
        {
            writer.Write((byte)'i');
            var span = writer.GetSpan(16);
            var written = 0;
            var address = context.GetClientIpAddress();
            if (address is not null && !address.TryWriteBytes(span, out written))
            {
                written = 0;
            }

            writer.Advance(written);
            writer.WriteInt32(written);
        }
        else
        {
            writer.Write((byte)'a');
        }

        writer.WriteString(policy.Name);

        // The content type as sent: an endpoint may read it (a binder answers 415 to what is not JSON, and decodes a
        // body in the charset it names), so bodies of equal bytes under different content types are different requests.
        var contentType = request.ContentType;
        writer.Write(contentType is null ? (byte)'-' : (byte)'c');
        writer.WriteString(contentType);
        if (body.Length > 0 && IsUtf8Json(contentType))
        {
            writer.Write((byte)'j');
            var canonical = JsonCanonicalizer.TryWrite(body, writer, policy.ExcludedJsonFields, ignoreCase);
            if (canonical == JsonCanonicalResult.DuplicateMember
                || (canonical == JsonCanonicalResult.NotJson && policy.InvalidJson == InvalidJsonHandling.Bypass))
            {
                key = default;
                return canonical;
            }

            if (canonical == JsonCanonicalResult.NotJson)
            {
                writer.Write((byte)'r');
                writer.WriteBlock(body.Span);
            }
        }
        else
        {
            writer.Write((byte)'r');
            writer.WriteBlock(body.Span);
        }

        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(writer.WrittenSpan, hash);
        key = new CacheKey(hash);
        return JsonCanonicalResult.Written;
    }

    private static void WriteValues(PooledByteWriter writer, StringValues values)
    {
        writer.WriteInt32(values.Count);
        foreach (var value in values)
        {
            writer.WriteString(value);
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

    /// <summary>
    /// Whether a body of <paramref name="contentType"/> is canonicalized: none, or a JSON media type in UTF-8 (no charset,
    /// or exactly one <c>charset=utf-8</c>). A body in another charset is decoded by the binder in that charset, where
    /// equal canonical UTF-8 forms no longer mean equal text; it is keyed on its raw bytes.
    /// </summary>
    internal static bool IsUtf8Json(string? contentType)
    {
        if (contentType is null)
        {
            return true;
        }

        if (!contentType.Contains("json", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var at = contentType.IndexOf("charset", StringComparison.OrdinalIgnoreCase);
        if (at < 0)
        {
            return true;
        }

        var rest = contentType.AsSpan(at + "charset".Length);
        if (rest.Contains("charset", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        rest = rest.TrimStart();
        if (rest.IsEmpty || rest[0] != '=')
        {
            return false;
        }

        rest = rest[1..];
        var end = rest.IndexOf(';');
        if (end >= 0)
        {
            rest = rest[..end];
        }

        rest = rest.Trim();
        if (rest.Length >= 2 && rest[0] == '"' && rest[^1] == '"')
        {
            rest = rest[1..^1];
        }

        return rest.Equals("utf-8", StringComparison.OrdinalIgnoreCase);
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

    /// <summary>
    /// The second-level key of <paramref name="hexKey"/>. The hash is also the cross-replica lock's key, and the braces
    /// make it the Redis Cluster hash tag, so an entry and its lock live in one slot and one script can reach both.
    /// </summary>
    private static string DistributedKey(string hexKey) => string.Concat(DistributedPrefix, "{", hexKey, "}");

    private async ValueTask<CachedResponse?> GetDistributedAsync(CacheKey key, CancellationToken cancellationToken)
    {
        if (_distributed is null)
        {
            return null;
        }

        byte[]? data;
        try
        {
            data = await _distributed.GetAsync(DistributedKey(key.ToString()), cancellationToken);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            Log.DistributedFailed(_logger, exception);
            return null;
        }

        return FromDistributed(key, data);
    }

    /// <summary>The entry <paramref name="data"/> holds, kept in the first level too, unless it is unreadable or past serving even stale.</summary>
    private CachedResponse? FromDistributed(CacheKey key, byte[]? data)
    {
        if (data is null || !CachedResponse.TryDeserialize(data, out var cached) || cached!.StaleUntil <= _time.GetUtcNow())
        {
            return null;
        }

        _memory.Set(key, cached);
        return cached;
    }

    private async ValueTask SetDistributedAsync(CacheKey key, CachedResponse entry)
    {
        if (_distributed is null)
        {
            return;
        }

        try
        {
            await _distributed.SetAsync(
                DistributedKey(key.ToString()),
                entry.Serialize(),
                new DistributedCacheEntryOptions { AbsoluteExpiration = entry.StaleUntil },
                CancellationToken.None);
        }
        catch (Exception exception)
        {
            Log.DistributedFailed(_logger, exception);
        }
    }

    /// <summary>Writes the second level and releases the shared lock in one call; <see langword="false"/> when it did neither.</summary>
    private async ValueTask<bool> SetDistributedAndReleaseAsync(CacheKey key, CachedResponse entry, string lockKey, string owner)
    {
        var timeToLive = entry.StaleUntil - _time.GetUtcNow();
        if (timeToLive <= TimeSpan.Zero)
        {
            return false;
        }

        try
        {
            await _sharedLock!.SetAndReleaseAsync(DistributedKey(lockKey), entry.Serialize(), timeToLive, lockKey, owner);
            return true;
        }
        catch (Exception exception)
        {
            Log.DistributedFailed(_logger, exception);
            return false;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1201, LogLevel.Debug, "Prediction cache bypassed: {Reason}.", EventName = "CacheBypassed")]
        public static partial void Bypassed(ILogger logger, string reason);

        [LoggerMessage(1202, LogLevel.Debug, "Request waits for an identical request in flight.", EventName = "CacheCoalesced")]
        public static partial void Coalesced(ILogger logger);

        [LoggerMessage(1203, LogLevel.Warning, "Endpoint failed; a stale cached response replaces its answer.", EventName = "CacheEndpointFailed")]
        public static partial void EndpointFailed(ILogger logger, Exception exception);

        [LoggerMessage(1204, LogLevel.Information, "Served a stale cached response instead of status {StatusCode}.", EventName = "CacheServedStale")]
        public static partial void ServedStale(ILogger logger, int statusCode);

        [LoggerMessage(1205, LogLevel.Debug, "Event stream not stored: it ended without its terminal event.", EventName = "CacheStreamNotStored")]
        public static partial void StreamNotStored(ILogger logger);

        [LoggerMessage(1206, LogLevel.Warning, "The distributed cache failed; continuing with the in-memory cache.", EventName = "CacheDistributedFailed")]
        public static partial void DistributedFailed(ILogger logger, Exception exception);

        [LoggerMessage(1207, LogLevel.Warning, "The cache lock failed; the request runs without coalescing.", EventName = "CacheLockFailed")]
        public static partial void LockFailed(ILogger logger, Exception exception);

        [LoggerMessage(1208, LogLevel.Debug, "The client went away while the prediction cache served it.", EventName = "CacheClientGone")]
        public static partial void ClientGone(ILogger logger);

        [LoggerMessage(1209, LogLevel.Debug, "Request refused: its JSON body repeats a member name, so it has no cache key.", EventName = "CacheDuplicateMemberRejected")]
        public static partial void DuplicateMemberRejected(ILogger logger);
    }
}
