namespace AiEdge.Middleware.Caching;

/// <summary>
/// Honours the <c>Idempotency-Key</c> request header on this endpoint: a retry with the same key replays the first
/// response instead of running again. Same as <c>.WithIdempotency()</c>.
/// </summary>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Method, AllowMultiple = false, Inherited = true)]
public sealed class IdempotentAttribute : Attribute, IIdempotencyMetadata
{
    /// <summary>Gets or sets whether requests without a key are refused with 400.</summary>
    /// <value>Defaults to <see langword="false"/> (then <see cref="IdempotencyOptions.Required"/> decides).</value>
    public bool Required { get; set; }
}
