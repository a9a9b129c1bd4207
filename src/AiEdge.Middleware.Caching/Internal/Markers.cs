using AiEdge.Middleware.Internal;
namespace AiEdge.Middleware.Caching.Internal;

/// <summary>Registered by <c>AddPredictionCache()</c>: tells the shared caching step to add the cache middleware.</summary>
internal sealed class PredictionCacheMarker;

/// <summary>Registered by <c>AddIdempotency()</c>: tells the shared caching step to add the idempotency middleware.</summary>
internal sealed class IdempotencyMarker;
