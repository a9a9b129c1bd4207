namespace AiEdge.Middleware.Concurrency;

/// <summary>Endpoint metadata naming the concurrency tier whose slots the endpoint's requests take.</summary>
/// <remarks>An endpoint takes one slot: when several are attached, the one closest to the endpoint wins.</remarks>
public interface IConcurrencyTierMetadata
{
    /// <summary>Gets the tier's name, a key of <see cref="ConcurrencyOptions.Tiers"/>.</summary>
    string TierName { get; }
}

/// <summary>Endpoint metadata that exempts an endpoint from its concurrency tier (for example inside a limited group).</summary>
public interface IDisableConcurrencyMetadata
{
}
