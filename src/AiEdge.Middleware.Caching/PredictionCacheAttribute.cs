namespace AiEdge.Middleware.Caching;

/// <summary>
/// Caches the endpoint's responses, keyed on the canonical request. The endpoint must be deterministic: the same
/// request always deserves the same answer. Same as <c>.WithPredictionCache()</c>.
/// </summary>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Method, AllowMultiple = false, Inherited = true)]
public sealed class PredictionCacheAttribute : Attribute, IPredictionCacheMetadata
{
    /// <summary>Caches with the defaults of <see cref="PredictionCacheOptions"/>.</summary>
    public PredictionCacheAttribute()
    {
    }

    /// <summary>Caches with the named policy of <see cref="PredictionCacheOptions.Policies"/>.</summary>
    /// <param name="policyName">The policy's name; an unknown name fails at startup.</param>
    public PredictionCacheAttribute(string policyName)
    {
        ArgumentException.ThrowIfNullOrEmpty(policyName);
        PolicyName = policyName;
    }

    /// <inheritdoc />
    public string? PolicyName { get; }
}
