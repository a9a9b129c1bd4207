namespace AiEdge.Middleware.Caching;

/// <summary>
/// What the prediction cache does with a JSON request body in which an object has the same member name twice, after
/// unescaping and compared as the application's JSON binding compares names (case-insensitively under
/// <c>JsonSerializerDefaults.Web</c>, what minimal APIs and MVC use). Such a body has no cache key: which of the two
/// values the endpoint reads depends on their order, and RFC 7493 (I-JSON) forbids it.
/// </summary>
public enum DuplicateJsonMembers
{
    /// <summary>The request is refused with <c>400 Bad Request</c> and an <c>application/problem+json</c> body; the endpoint does not run.</summary>
    Reject = 0,

    /// <summary>The request bypasses the cache (<c>X-Cache: BYPASS</c>) and the endpoint answers it as usual.</summary>
    Bypass = 1,
}
