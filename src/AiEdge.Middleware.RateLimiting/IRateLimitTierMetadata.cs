namespace AiEdge.Middleware.RateLimiting;

/// <summary>
/// Endpoint metadata naming a rate-limit tier. An endpoint may carry several; a request must pass all of them
/// (for example a per-second and a per-day tier).
/// </summary>
public interface IRateLimitTierMetadata
{
    /// <summary>Gets the tier's name, a key of <see cref="RateLimitingOptions.Tiers"/>.</summary>
    string TierName { get; }
}

/// <summary>Endpoint metadata that exempts an endpoint from every rate-limit tier (for example inside a limited group).</summary>
public interface IDisableRateLimitingMetadata
{
}
