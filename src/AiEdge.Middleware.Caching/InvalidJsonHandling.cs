namespace AiEdge.Middleware.Caching;

/// <summary>What the prediction cache does with a JSON request body that does not parse.</summary>
public enum InvalidJsonHandling
{
    /// <summary>The key is computed over the raw body bytes (the endpoint still decides how to answer).</summary>
    HashRawBytes = 0,

    /// <summary>The request bypasses the cache (<c>X-Cache: BYPASS</c>).</summary>
    Bypass = 1,
}
