namespace AiEdge.Middleware.RateLimiting;

/// <summary>
/// Limits a controller, action or endpoint by the named tier; the same as <c>.WithRateLimitTier(name)</c>.
/// Apply it several times for several tiers.
/// </summary>
/// <param name="tierName">The tier's name.</param>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Method, AllowMultiple = true, Inherited = true)]
public sealed class RateLimitTierAttribute(string tierName) : Attribute, IRateLimitTierMetadata
{
    /// <inheritdoc />
    public string TierName { get; } = !string.IsNullOrEmpty(tierName) ? tierName : throw new ArgumentException("A tier name is required.", nameof(tierName));
}

/// <summary>Exempts a controller, action or endpoint from rate limiting; the same as <c>.DisableRateLimitTiers()</c>.</summary>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Method, AllowMultiple = false, Inherited = true)]
public sealed class DisableRateLimitTiersAttribute : Attribute, IDisableRateLimitingMetadata
{
}
