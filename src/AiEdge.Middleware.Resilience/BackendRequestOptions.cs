namespace AiEdge.Middleware.Resilience;

/// <summary>Per-request settings of a call through a backend pool, set on <see cref="HttpRequestMessage.Options"/>.</summary>
public static class BackendRequestOptions
{
    /// <summary>
    /// Marks a request whose method is not idempotent (e.g. a POST of an embedding or a deterministic prediction)
    /// as safe to retry: <c>request.Options.Set(BackendRequestOptions.Idempotent, true)</c>. A request refused by an
    /// open breaker moves to another replica whatever this says, since the backend never saw it.
    /// </summary>
    public static readonly HttpRequestOptionsKey<bool> Idempotent = new("AiEdge.Resilience.Idempotent");
}
