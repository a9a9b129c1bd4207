namespace AiEdge.Middleware.Caching;

/// <summary>Endpoint metadata that opts an endpoint into the prediction cache.</summary>
public interface IPredictionCacheMetadata
{
    /// <summary>Gets the name of the policy in <see cref="PredictionCacheOptions.Policies"/>, or <see langword="null"/> for the options' defaults.</summary>
    string? PolicyName { get; }
}
