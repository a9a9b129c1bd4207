namespace AiEdge.Middleware.Concurrency;

/// <summary>Caps a controller, action or endpoint by the named concurrency tier; the same as <c>.WithConcurrencyTier(name)</c>.</summary>
/// <param name="tierName">The tier's name.</param>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Method, AllowMultiple = false, Inherited = true)]
public sealed class ConcurrencyTierAttribute(string tierName) : Attribute, IConcurrencyTierMetadata
{
    /// <inheritdoc />
    public string TierName { get; } = !string.IsNullOrEmpty(tierName) ? tierName : throw new ArgumentException("A tier name is required.", nameof(tierName));
}

/// <summary>Exempts a controller, action or endpoint from concurrency tiers; the same as <c>.DisableConcurrencyTier()</c>.</summary>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Method, AllowMultiple = false, Inherited = true)]
public sealed class DisableConcurrencyTierAttribute : Attribute, IDisableConcurrencyMetadata
{
}
