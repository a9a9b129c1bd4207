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

    /// <summary>
    /// Gets or sets the claim types that carry the caller's scopes, read from whichever scheme authenticated the
    /// caller (AiEdge's or the app's own). Each claim's value is space-delimited (<c>scope</c>) or one scope per claim
    /// (<c>scp</c> as a JSON array); both forms are read from every listed type.
    /// </summary>
    /// <value>Defaults to <see langword="null"/>: <see cref="DefaultScopeClaims"/>, i.e. <c>scope</c>, <c>scp</c>, and
    /// <c>http://schemas.microsoft.com/identity/claims/scope</c> (what <c>scp</c> becomes when the app's JwtBearer maps
    /// inbound claims). API-key scopes are always read. Configuration key: <c>AiEdge:Authentication:ScopeClaims</c> (an array).</value>
    public IList<string>? ScopeClaims { get; set; }

    /// <summary>
    /// Gets or sets the claim type that carries the caller's plan (for rate-limit plans), read from whichever scheme
    /// authenticated the caller. The value becomes the <see cref="AiEdgeClaimTypes.Plan"/> claim that
    /// <c>GetCallerPlan()</c> reads.
    /// </summary>
    /// <value>Defaults to <c>plan</c>. Configuration key: <c>AiEdge:Authentication:PlanClaim</c>.</value>
    public string PlanClaim { get; set; } = "plan";

    /// <summary>The scope claim types read when <see cref="ScopeClaims"/> is not set.</summary>
    public static IReadOnlyList<string> DefaultScopeClaims { get; } = ["scope", "scp", "http://schemas.microsoft.com/identity/claims/scope"];

    /// <summary>Gets the API-key settings. Configuration section: <c>AiEdge:Authentication:ApiKeys</c>.</summary>
    public EdgeApiKeyOptions ApiKeys { get; } = new();

    /// <summary>Gets the JWT bearer settings. Configuration section: <c>AiEdge:Authentication:Jwt</c>.</summary>
    public EdgeJwtOptions Jwt { get; } = new();
}
