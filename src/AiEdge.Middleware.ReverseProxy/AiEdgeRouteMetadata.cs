namespace AiEdge.Middleware.ReverseProxy;

/// <summary>
/// The keys of a YARP route's <c>Metadata</c> (<c>ReverseProxy:Routes:{route}:Metadata</c>) that apply AiEdge's
/// concerns to the route, read by <c>WithAiEdgeRouteMetadata()</c> (part of <c>MapAiEdgeReverseProxy()</c>). Each
/// key does what the endpoint convention it names does on a minimal API endpoint. An invalid value fails when the
/// route's endpoint is built, naming the route and the key.
/// </summary>
public static class AiEdgeRouteMetadata
{
    /// <summary>
    /// <c>AiEdge.RateLimitTier</c>: the rate-limit tier (and so the token budget) of the route, as
    /// <c>.WithRateLimitTier(name)</c>. The tier must exist under <c>AiEdge:RateLimiting:Tiers</c>.
    /// </summary>
    public const string RateLimitTier = "AiEdge.RateLimitTier";

    /// <summary><c>AiEdge.RequireAuthenticatedCaller</c>: <c>"true"</c> requires an API key or token, as <c>.RequireAuthenticatedCaller()</c>.</summary>
    public const string RequireAuthenticatedCaller = "AiEdge.RequireAuthenticatedCaller";

    /// <summary>
    /// <c>AiEdge.RequireScopes</c>: scopes the caller must hold, separated by spaces or commas, as
    /// <c>.RequireScopes(...)</c> (which implies an authenticated caller).
    /// </summary>
    public const string RequireScopes = "AiEdge.RequireScopes";

    /// <summary><c>AiEdge.BodyLimit</c>: the route's request body limit (<c>"64k"</c>, <c>"10m"</c>), or <c>"off"</c>, as <c>.WithBodyLimit(size)</c> / <c>.DisableBodyLimit()</c>.</summary>
    public const string BodyLimit = "AiEdge.BodyLimit";

    /// <summary>
    /// <c>AiEdge.PredictionCache</c>: caches the route's answers (deterministic routes such as embeddings), as
    /// <c>.WithPredictionCache(policy)</c>; the value names a policy of <c>AiEdge:Caching</c>, or <c>"default"</c>.
    /// </summary>
    public const string PredictionCache = "AiEdge.PredictionCache";

    /// <summary><c>AiEdge.Idempotency</c>: <c>"true"</c> honours <c>Idempotency-Key</c>, <c>"required"</c> demands it, as <c>.WithIdempotency(required)</c>.</summary>
    public const string Idempotency = "AiEdge.Idempotency";

    /// <summary><c>AiEdge.Streaming</c>: <c>"true"</c> marks the route as streaming (no buffering, heartbeats), as <c>.WithStreaming()</c>.</summary>
    public const string Streaming = "AiEdge.Streaming";

    /// <summary>
    /// <c>AiEdge.FirstByteTimeout</c>: the route's <see cref="ProxyStreamOptions.FirstByteTimeout"/> (<c>"30s"</c>,
    /// <c>"00:00:30"</c>, or <c>"off"</c>).
    /// </summary>
    public const string FirstByteTimeout = "AiEdge.FirstByteTimeout";

    /// <summary><c>AiEdge.IdleTimeout</c>: the route's <see cref="ProxyStreamOptions.IdleTimeout"/> (a duration or <c>"off"</c>).</summary>
    public const string IdleTimeout = "AiEdge.IdleTimeout";

    /// <summary><c>AiEdge.TotalTimeout</c>: the route's <see cref="ProxyStreamOptions.TotalTimeout"/> (a duration or <c>"off"</c>).</summary>
    public const string TotalTimeout = "AiEdge.TotalTimeout";
}
