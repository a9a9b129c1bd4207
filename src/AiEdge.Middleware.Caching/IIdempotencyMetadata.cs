namespace AiEdge.Middleware.Caching;

/// <summary>Endpoint metadata that opts an endpoint into Idempotency-Key handling (for POST and PATCH requests).</summary>
public interface IIdempotencyMetadata
{
    /// <summary>Gets whether this endpoint requires the key even when <see cref="IdempotencyOptions.Required"/> is off.</summary>
    bool Required { get; }
}
