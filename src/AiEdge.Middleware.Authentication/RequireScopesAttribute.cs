namespace AiEdge.Middleware.Authentication;

/// <summary>Requires an authenticated caller holding every one of the given scopes (403 <c>insufficient_scope</c> otherwise).</summary>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Method | AttributeTargets.Delegate, AllowMultiple = true)]
public sealed class RequireScopesAttribute : Attribute, ICallerRequirementMetadata
{
    /// <summary>Creates the requirement.</summary>
    /// <param name="scopes">The required scopes, e.g. <c>predict</c>; each non-empty and without spaces.</param>
    public RequireScopesAttribute(params string[] scopes)
    {
        ArgumentNullException.ThrowIfNull(scopes);
        if (scopes.Length == 0)
        {
            throw new ArgumentException("At least one scope is required; use RequireAuthenticatedCaller for any authenticated caller.", nameof(scopes));
        }

        foreach (var scope in scopes)
        {
            ArgumentException.ThrowIfNullOrWhiteSpace(scope, nameof(scopes));
            if (scope.Contains(' ', StringComparison.Ordinal) || scope.Contains('"', StringComparison.Ordinal) || scope.Contains('\\', StringComparison.Ordinal))
            {
                throw new ArgumentException($"The scope '{scope}' must not contain spaces, quotes or backslashes.", nameof(scopes));
            }
        }

        Scopes = scopes;
        ScopeParameter = string.Join(' ', scopes);
    }

    /// <inheritdoc />
    public IReadOnlyList<string> Scopes { get; }

    /// <summary>Gets the scopes as one space-separated value, as sent in <c>WWW-Authenticate: Bearer scope="..."</c>.</summary>
    internal string ScopeParameter { get; }
}
