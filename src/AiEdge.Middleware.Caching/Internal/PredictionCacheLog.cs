using Microsoft.Extensions.Logging;

namespace AiEdge.Middleware.Caching.Internal;

/// <summary>The prediction cache's log events (1201-1209), written under <see cref="PredictionCacheMiddleware"/>'s category.</summary>
internal static partial class PredictionCacheLog
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
