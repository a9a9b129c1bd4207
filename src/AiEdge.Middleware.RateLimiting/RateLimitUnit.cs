namespace AiEdge.Middleware.RateLimiting;

/// <summary>What a <see cref="RateLimitRule"/> counts.</summary>
public enum RateLimitUnit
{
    /// <summary>Requests, decided exactly as NGINX's <c>limit_req</c> (cost 1, the first request of an idle partition is free).</summary>
    Requests = 0,

    /// <summary>LLM tokens: a token bucket of <see cref="RateLimitRule.CapacityMilli"/> that a request reserves an estimate from.</summary>
    Tokens = 1,
}
