namespace AiEdge.Middleware.Authentication;

/// <summary>
/// Endpoint metadata: the endpoint requires an authenticated caller holding every scope in <see cref="Scopes"/>
/// (none: any authenticated caller). Several entries on one endpoint (a group's and the endpoint's) all apply.
/// </summary>
public interface ICallerRequirementMetadata
{
    /// <summary>Gets the scopes the caller must hold; empty when any authenticated caller is enough.</summary>
    IReadOnlyList<string> Scopes { get; }
}
