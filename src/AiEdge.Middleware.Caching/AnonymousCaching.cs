namespace AiEdge.Middleware.Caching;

/// <summary>What the prediction cache does for requests without an authenticated caller.</summary>
public enum AnonymousCaching
{
    /// <summary>Anonymous requests are not cached (<c>X-Cache: BYPASS</c>). The safe default.</summary>
    Bypass = 0,

    /// <summary>Every anonymous caller shares one partition: an identical anonymous request anywhere is a hit.</summary>
    Shared = 1,

    /// <summary>Anonymous callers are partitioned by client IP address (as resolved by forwarded headers).</summary>
    PerClientAddress = 2,
}
