namespace AiEdge.Middleware.Redis;

/// <summary>What the concerns backed by Redis do while Redis cannot be reached.</summary>
public enum RedisFailureMode
{
    /// <summary>
    /// Decide locally: rate limits fall back to each replica's in-memory limiter, the prediction cache to its
    /// in-memory level, idempotency to the replica's own records. Requests keep flowing; limits become per replica
    /// until Redis returns. The default.
    /// </summary>
    FailOpen = 0,

    /// <summary>
    /// Refuse what needs the shared state: rate-limited, idempotent and coalesced requests are answered
    /// <c>503 Service Unavailable</c> with <c>Retry-After</c> until Redis returns.
    /// </summary>
    FailClosed = 1,
}
