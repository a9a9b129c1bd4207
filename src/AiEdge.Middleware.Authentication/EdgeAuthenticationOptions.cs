namespace AiEdge.Middleware.Authentication;

/// <summary>
/// Options of AiEdge authentication: who may call (API keys, JWT bearer tokens) and whether every endpoint
/// requires an authenticated caller. Bound from <c>AiEdge:Authentication</c>.
/// </summary>
public sealed class EdgeAuthenticationOptions
{
    /// <summary>
    /// Gets or sets whether every endpoint requires an authenticated caller unless it allows anonymous callers
    /// (<c>.AllowAnonymous()</c> or <c>[AllowAnonymous]</c>).
    /// </summary>
    /// <value>Defaults to <see langword="false"/>: only endpoints marked with <c>.RequireScopes(...)</c> or
    /// <c>.RequireAuthenticatedCaller()</c> need credentials. Configuration key:
    /// <c>AiEdge:Authentication:RequireAuthenticatedCaller</c>.</value>
    public bool RequireAuthenticatedCaller { get; set; }

    /// <summary>
    /// Gets or sets whether credentials that are presented but invalid (an unknown API key, an expired token, a
    /// malformed <c>Authorization</c> header) are refused even on endpoints that require no authentication.
    /// </summary>
    /// <value>Defaults to <see langword="true"/>: a caller who believes it is authenticated learns that it is not,
    /// instead of silently being served as anonymous. Configuration key:
    /// <c>AiEdge:Authentication:RejectInvalidCredentials</c>.</value>
    public bool RejectInvalidCredentials { get; set; } = true;

    /// <summary>Gets the API-key settings. Configuration section: <c>AiEdge:Authentication:ApiKeys</c>.</summary>
    public EdgeApiKeyOptions ApiKeys { get; } = new();

    /// <summary>Gets the JWT bearer settings. Configuration section: <c>AiEdge:Authentication:Jwt</c>.</summary>
    public EdgeJwtOptions Jwt { get; } = new();
}
