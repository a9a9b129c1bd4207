using AiEdge.Middleware.Caching;
using AiEdge.Middleware.Concurrency;
using AiEdge.Middleware.Internal;
using AiEdge.Middleware.RateLimiting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AiEdge.Middleware.Redis.Internal;

/// <summary>
/// Under <see cref="RedisFailureMode.FailClosed"/>, answers <c>503</c> with <c>Retry-After</c> for endpoints that
/// need the shared state (a rate-limit tier, a concurrency tier or Idempotency-Key handling) while Redis is unreachable, before those
/// concerns run, and when a store loses Redis during the decision. Under fail-open it passes every request through
/// untouched.
/// </summary>
internal sealed partial class RedisFailClosedMiddleware(
    RequestDelegate next,
    IRedisConnection redis,
    IOptions<RedisOptions> options,
    RedisMetrics metrics,
    ILogger<RedisFailClosedMiddleware> logger)
{
    /// <summary>Just before rate limiting.</summary>
    public const AiEdgeStage Stage = AiEdgeStage.RateLimiting - 10;

    private static readonly string RetryAfterSeconds = "1";
    private readonly bool _failClosed = options.Value.FailureMode == RedisFailureMode.FailClosed;

    public Task InvokeAsync(HttpContext context)
    {
        if (!_failClosed || redis.State == RedisConnectionState.NotConfigured)
        {
            return next(context);
        }

        var metadata = RequestFeatures.Endpoint(context)?.Metadata;
        if (metadata is null || (metadata.GetMetadata<IRateLimitTierMetadata>() is null && metadata.GetMetadata<IIdempotencyMetadata>() is null
            && metadata.GetMetadata<IConcurrencyTierMetadata>() is null))
        {
            return next(context);
        }

        return redis.IsConnected ? GuardAsync(context) : RefuseAsync(context);
    }

    /// <summary>Redis was up when the request arrived: a store that loses it mid-decision throws, and that becomes a 503 too.</summary>
    private async Task GuardAsync(HttpContext context)
    {
        try
        {
            await next(context);
        }
        catch (RedisConnectionException) when (!context.Response.HasStarted)
        {
            await RefuseAsync(context);
        }
    }

    private Task RefuseAsync(HttpContext context)
    {
        metrics.RedisFallback("fail-closed");
        metrics.Rejected("redis", "unavailable");
        Log.Refused(logger, context.Request.Path);
        context.Response.Headers[Microsoft.Net.Http.Headers.HeaderNames.RetryAfter] = RetryAfterSeconds;
        return AiEdgeProblems.WriteAsync(
            context,
            StatusCodes.Status503ServiceUnavailable,
            "Shared state unavailable",
            "The shared state (rate limits, concurrency slots, idempotency records) cannot be reached; retry shortly.");
    }

    private static partial class Log
    {
        [LoggerMessage(1810, LogLevel.Debug, "Refused {Path}: Redis is unreachable and AiEdge:Redis:FailureMode is FailClosed.", EventName = "RedisFailClosed")]
        public static partial void Refused(ILogger logger, PathString path);
    }
}
