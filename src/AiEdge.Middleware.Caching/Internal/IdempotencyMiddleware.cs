using System.Buffers;
using System.Security.Cryptography;
using AiEdge.Middleware.Caching;
using AiEdge.Middleware.Internal;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;

namespace AiEdge.Middleware.Caching.Internal;

/// <summary>
/// Idempotency-Key (draft-ietf-httpapi-idempotency-key-header) for opted-in POST and PATCH endpoints: the first
/// request with a key runs and its response is kept; a retry with the same key and payload gets that response
/// again; the same key with another payload is 422, a retry while the first still runs 409, a malformed key 400.
/// </summary>
internal sealed partial class IdempotencyMiddleware
{
    private const string HeaderName = "Idempotency-Key";
    private static readonly byte[] KeyVersion = "aiedge-idempotency-v2"u8.ToArray();

    // A store at its bound with only running claims frees room as they finish: a second is a fair wait.
    private const string FullRetryAfter = "1";
    private static readonly long FullLogInterval = TimeSpan.FromMinutes(1).Ticks;

    private readonly RequestDelegate _next;
    private readonly IIdempotencyStore _store;
    private readonly TimeProvider _time;
    private readonly CachingMetrics _metrics;
    private readonly ILogger _logger;
    private readonly bool _required;
    private readonly int _maxKeyLength;
    private readonly long _maxResponseBody;
    private readonly TimeSpan _retention;
    private readonly TimeSpan _processingTimeout;
    private readonly string _replayedHeader;
    private long _nextFullLogTicks;
    private long _fullSinceLog;

    public IdempotencyMiddleware(
        RequestDelegate next,
        IOptions<IdempotencyOptions> options,
        IIdempotencyStore store,
        TimeProvider time,
        CachingMetrics metrics,
        ILogger<IdempotencyMiddleware> logger)
    {
        var value = options.Value;
        _next = next;
        _store = store;
        _time = time;
        _metrics = metrics;
        _logger = logger;
        _required = value.Required;
        _maxKeyLength = value.MaxKeyLength;
        _maxResponseBody = value.MaxResponseBodySize;
        _retention = value.Retention;
        _processingTimeout = value.ProcessingTimeout;
        _replayedHeader = value.ReplayedHeaderName;
    }

    public Task InvokeAsync(HttpContext context)
    {
        var metadata = RequestFeatures.Endpoint(context)?.Metadata.GetMetadata<IIdempotencyMetadata>();
        var method = context.Request.Method;
        if (metadata is null || !(HttpMethods.IsPost(method) || HttpMethods.IsPatch(method)))
        {
            return _next(context);
        }

        var field = context.Request.Headers[HeaderName];
        if (field.Count == 0)
        {
            return _required || metadata.Required ? MissingAsync(context) : _next(context);
        }

        return InvokeIdempotentAsync(context, field);
    }

    private Task MissingAsync(HttpContext context)
    {
        _metrics.IdempotencyOutcome(context, "missing");
        return AiEdgeProblems.WriteAsync(
            context,
            StatusCodes.Status400BadRequest,
            "Idempotency-Key required",
            "This endpoint requires an Idempotency-Key header, e.g. Idempotency-Key: \"8e03978e-40d5-43e8-bc93-6894a57f9324\".");
    }

    private async Task InvokeIdempotentAsync(HttpContext context, StringValues field)
    {
        var keyChars = ArrayPool<char>.Shared.Rent(_maxKeyLength);
        string storeKey;
        try
        {
            if (field.Count != 1 || !IdempotencyKeyParser.TryParse(field[0], _maxKeyLength, keyChars, out var keyLength))
            {
                _metrics.IdempotencyOutcome(context, "invalid");
                await AiEdgeProblems.WriteAsync(
                    context,
                    StatusCodes.Status400BadRequest,
                    "Invalid Idempotency-Key",
                    "The Idempotency-Key header must be one quoted string (a Structured Field string) of 1 to " + _maxKeyLength + " printable ASCII characters.");
                return;
            }

            storeKey = ComputeStoreKey(context, keyChars.AsSpan(0, keyLength));
        }
        finally
        {
            ArrayPool<char>.Shared.Return(keyChars);
        }

        var aborted = context.RequestAborted;
        byte[] fingerprint;
        try
        {
            fingerprint = await FingerprintAsync(context.Request, aborted);
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            _metrics.ClientDisconnected("idempotency");
            return;
        }

        var token = Guid.NewGuid().ToString("N");
        IdempotencyClaim claim;
        try
        {
            claim = await _store.TryClaimAsync(storeKey, fingerprint, token, _processingTimeout, aborted);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            Log.StoreFailed(_logger, exception);
            await _next(context);
            return;
        }

        switch (claim.Status)
        {
            case IdempotencyClaimStatus.Completed when claim.Record is { } record && CryptographicOperations.FixedTimeEquals(record.Fingerprint.Span, fingerprint):
                _metrics.IdempotencyOutcome(context, "replayed");
                Log.Replayed(_logger);
                await ResponseRecorder.WriteAsync(context, record.Response, default, sendAge: false, _time.GetUtcNow(), _replayedHeader);
                return;
            case IdempotencyClaimStatus.Completed:
            case IdempotencyClaimStatus.InProgress when !claim.Fingerprint.IsEmpty && !CryptographicOperations.FixedTimeEquals(claim.Fingerprint.Span, fingerprint):
                _metrics.IdempotencyOutcome(context, "mismatch");
                await AiEdgeProblems.WriteAsync(
                    context,
                    StatusCodes.Status422UnprocessableEntity,
                    "Idempotency-Key reused",
                    "This Idempotency-Key was already used with a different request payload; use a new key for a new request.");
                return;
            case IdempotencyClaimStatus.Full:
                await StoreFullAsync(context);
                return;
            case IdempotencyClaimStatus.InProgress:
                _metrics.IdempotencyOutcome(context, "conflict");
                await AiEdgeProblems.WriteAsync(
                    context,
                    StatusCodes.Status409Conflict,
                    "Request in progress",
                    "A request with this Idempotency-Key is still being processed; retry after it completes.");
                return;
        }

        _metrics.IdempotencyOutcome(context, "first");
        await RunFirstAsync(context, storeKey, token, fingerprint);
    }

    // The store is at its bound and holds only running requests: running this one unprotected could run it twice
    // (its retry would find no claim), so it is refused until room is freed. Logged once a minute with a count.
    private Task StoreFullAsync(HttpContext context)
    {
        _metrics.IdempotencyOutcome(context, "store_full");
        Interlocked.Increment(ref _fullSinceLog);
        var now = _time.GetUtcNow().UtcTicks;
        var next = Volatile.Read(ref _nextFullLogTicks);
        if (now >= next && Interlocked.CompareExchange(ref _nextFullLogTicks, now + FullLogInterval, next) == next)
        {
            Log.StoreFull(_logger, Interlocked.Exchange(ref _fullSinceLog, 0));
        }

        context.Response.Headers.RetryAfter = FullRetryAfter;
        return AiEdgeProblems.WriteAsync(
            context,
            StatusCodes.Status503ServiceUnavailable,
            "Idempotency store full",
            "The Idempotency-Key store is full of requests still running; retry shortly with the same key.");
    }

    private async Task RunFirstAsync(HttpContext context, string storeKey, string token, byte[] fingerprint)
    {
        var response = context.Response;
        var headersBefore = ResponseRecorder.SnapshotHeaderNames(response.Headers);
        var prior = RequestFeatures.Get<IHttpResponseBodyFeature>(context)!;
        var tee = new ResponseTee(context, prior, _maxResponseBody, swallowServerErrors: false);
        RequestFeatures.Set<IHttpResponseBodyFeature>(context, tee);
        var completed = false;
        try
        {
            try
            {
                await _next(context);
            }
            finally
            {
                RequestFeatures.Set(context, prior);
            }

            if (context.RequestAborted.IsCancellationRequested || tee.Overflowed)
            {
                Log.NotRecorded(_logger);
                return;
            }

            var body = tee.Copy;
            int[]? eventEnds = null;
            if (response.ContentType is { } type && type.StartsWith("text/event-stream", StringComparison.OrdinalIgnoreCase))
            {
                eventEnds = [body.Length];
            }

            var record = new IdempotencyRecord(
                fingerprint,
                ResponseRecorder.Record(response, headersBefore, body, eventEnds, _time.GetUtcNow(), _retention, TimeSpan.Zero, _replayedHeader));
            try
            {
                completed = await _store.CompleteAsync(storeKey, token, record, _retention, CancellationToken.None);
            }
            catch (Exception exception)
            {
                Log.StoreFailed(_logger, exception);
            }
        }
        finally
        {
            tee.Release();
            if (!completed)
            {
                try
                {
                    await _store.ReleaseAsync(storeKey, token, CancellationToken.None);
                }
                catch (Exception exception)
                {
                    Log.StoreFailed(_logger, exception);
                }
            }
        }
    }

    private static string ComputeStoreKey(HttpContext context, ReadOnlySpan<char> key)
    {
        var request = context.Request;
        using var writer = new PooledByteWriter(512);
        writer.WriteBlock(KeyVersion);
        writer.WriteString(request.Method);
        writer.WriteString((RequestFeatures.Endpoint(context) as RouteEndpoint)?.RoutePattern.RawText);
        writer.WriteString(request.PathBase.Value);
        writer.WriteString(request.Path.Value);
        if (context.GetCallerId() is { } callerId)
        {
            writer.Write((byte)'u');
            writer.WriteString(callerId);
        }
        else
        {
            writer.Write((byte)'i');
            var span = writer.GetSpan(16);
            var written = 0;
            if (context.GetClientIpAddress() is { } address && !address.TryWriteBytes(span, out written))
            {
                written = 0;
            }

            writer.Advance(written);
            writer.WriteInt32(written);
        }

        var bytes = writer.GetSpan(key.Length);
        for (var i = 0; i < key.Length; i++)
        {
            bytes[i] = (byte)key[i];
        }

        writer.Advance(key.Length);
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        Sha256PerThread.Hash(writer.WrittenSpan, hash);
        return Convert.ToHexStringLower(hash);
    }

    private static async Task<byte[]> FingerprintAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        request.EnableBuffering();
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            int read;
            while ((read = await request.Body.ReadAsync(buffer, cancellationToken)) > 0)
            {
                hash.AppendData(buffer, 0, read);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        request.Body.Position = 0;
        return hash.GetHashAndReset();
    }

    private static partial class Log
    {
        [LoggerMessage(1251, LogLevel.Debug, "Replayed the recorded response of an Idempotency-Key.", EventName = "IdempotencyReplayed")]
        public static partial void Replayed(ILogger logger);

        [LoggerMessage(1252, LogLevel.Debug, "The first request of an Idempotency-Key ended without a recordable response; the key is free again.", EventName = "IdempotencyNotRecorded")]
        public static partial void NotRecorded(ILogger logger);

        [LoggerMessage(1253, LogLevel.Warning, "The idempotency store failed; the request runs without Idempotency-Key protection.", EventName = "IdempotencyStoreFailed")]
        public static partial void StoreFailed(ILogger logger, Exception exception);

        [LoggerMessage(1254, LogLevel.Warning, "The idempotency store is at its SizeLimit with only running requests in it; requests with a new key refused with 503 since the last report: {Count}.", EventName = "IdempotencyStoreFull")]
        public static partial void StoreFull(ILogger logger, long count);
    }
}
