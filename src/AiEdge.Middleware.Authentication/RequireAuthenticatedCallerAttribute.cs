namespace AiEdge.Middleware.Authentication;

/// <summary>Requires an authenticated caller (401 otherwise), whatever its scopes.</summary>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Method | AttributeTargets.Delegate, AllowMultiple = false)]
public sealed class RequireAuthenticatedCallerAttribute : Attribute, ICallerRequirementMetadata
{
    /// <summary>The shared instance added by <c>.RequireAuthenticatedCaller()</c>.</summary>
    internal static readonly RequireAuthenticatedCallerAttribute Instance = new();

    /// <inheritdoc />
    public IReadOnlyList<string> Scopes => [];
}
