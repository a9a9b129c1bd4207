namespace AiEdge.Middleware;

/// <summary>
/// The fixed places of the AiEdge concerns in the request pipeline. <c>UseAiEdge()</c> inserts every
/// registered concern in ascending order of its stage, so an application cannot compose them wrongly.
/// </summary>
/// <remarks>
/// Routing runs right after <see cref="ForwardedHeaders"/> (so a forwarded path base is honoured and every
/// later stage sees the selected endpoint and its metadata); the endpoint itself runs after <see cref="Resilience"/>.
/// </remarks>
public enum AiEdgeStage
{
    /// <summary>Request diagnostics and the access log: first, so they observe every outcome.</summary>
    Diagnostics = 0,

    /// <summary>Problem details for unhandled exceptions and body-less error status codes.</summary>
    Errors = 50,

    /// <summary>Forwarded-header normalization: client address, scheme, host and path base.</summary>
    ForwardedHeaders = 100,

    /// <summary>Routing (endpoint selection). Added by <c>UseAiEdge()</c> itself unless the app already routes.</summary>
    Routing = 150,

    /// <summary>Security headers, applied to every response including short-circuits.</summary>
    SecurityHeaders = 200,

    /// <summary>CORS, including preflight answers, before authentication and rate limiting.</summary>
    Cors = 300,

    /// <summary>Liveness and readiness endpoints, never limited, cached or authenticated.</summary>
    Health = 400,

    /// <summary>API-key and JWT identity, and per-endpoint scopes.</summary>
    Authentication = 500,

    /// <summary>
    /// Per-endpoint request body limits, decided from <c>Content-Length</c> before anything reads the body (as NGINX
    /// checks <c>client_max_body_size</c> before <c>limit_req</c>): before rate limiting, whose token budgets read it.
    /// </summary>
    BodyLimits = 550,

    /// <summary>Tiered rate limiting and token budgets.</summary>
    RateLimiting = 600,

    /// <summary>Prediction caching and Idempotency-Key handling.</summary>
    Caching = 800,

    /// <summary>
    /// Concurrency tiers (load shedding, NGINX <c>limit_conn</c>): after authentication and rate limiting (a refused or
    /// unknown caller never waits for a slot) and after the prediction cache (a cache hit or a request coalesced onto an
    /// identical one in flight never takes a slot); before streaming, so a streamed response holds its slot to its end.
    /// </summary>
    Concurrency = 850,

    /// <summary>Buffering control for event streams.</summary>
    Streaming = 900,

    /// <summary>Circuit breakers around in-process model calls.</summary>
    Resilience = 1000,
}
