namespace AiEdge.Middleware.Concurrency;

/// <summary>Whose slots a concurrency tier counts a request against (NGINX's <c>limit_conn_zone</c> key).</summary>
public enum ConcurrencyPartitionKind
{
    /// <summary>One cap for the whole tier: every request of its endpoints shares the slots (protects the backend).</summary>
    None = 0,

    /// <summary>
    /// The client address after forwarded-header normalization (<c>HttpContext.Connection.RemoteIpAddress</c>), never a
    /// raw header: NGINX's <c>limit_conn_zone $binary_remote_addr</c>.
    /// </summary>
    ClientIp = 1,

    /// <summary>The authenticated caller (<c>HttpContext.GetCallerId()</c>); anonymous requests fall back to the client IP.</summary>
    Caller = 2,

    /// <summary>The name of the AiEdge API key the caller used (<c>HttpContext.GetCallerApiKeyName()</c>); requests without one fall back to the client IP.</summary>
    ApiKey = 3,

    /// <summary>The caller's plan (<c>HttpContext.GetCallerPlan()</c>, claim <c>aiedge:plan</c>); requests without one share the partition of no plan.</summary>
    Plan = 4,
}
