using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace AiEdge.Middleware.Authentication.Internal;

/// <summary>
/// The validated options turned once into lookups: the API-key store, which scheme reads a request, the app's own
/// default scheme, and the claim types that carry scopes and plans.
/// </summary>
internal sealed class AuthenticationSettings : IDisposable
{
    private readonly IDisposable? _subscription;
    private volatile ApiKeyStore _apiKeys;

    public AuthenticationSettings(IOptionsMonitor<EdgeAuthenticationOptions> options, IOptions<AuthenticationOptions> authentication)
    {
        var value = options.CurrentValue;
        RequireAuthenticatedCaller = value.RequireAuthenticatedCaller;
        RejectInvalidCredentials = value.RejectInvalidCredentials;
        _apiKeys = new ApiKeyStore(value.ApiKeys);
        ApiKeysEnabled = _apiKeys.Count > 0;

        // The key set follows configuration reloads (a new key works, a removed one stops working); whether API keys
        // are on at all, and every other setting, is decided once at startup.
        _subscription = options.OnChange((reloaded, name) =>
        {
            if (name is null || name == Options.DefaultName)
            {
                _apiKeys = new ApiKeyStore(reloaded.ApiKeys);
            }
        });
        ApiKeyHeader = ApiKeysEnabled ? value.ApiKeys.HeaderName : null;
        ApiKeysAcceptBearer = ApiKeysEnabled && value.ApiKeys.AcceptBearer;
        JwtEnabled = IsJwtEnabled(value.Jwt);
        MaxTokenLength = value.Jwt.MaxTokenLength;
        PlanClaim = value.PlanClaim;
        JwtPlanClaim = string.IsNullOrEmpty(value.Jwt.PlanClaim) ? value.PlanClaim : value.Jwt.PlanClaim;
        var scopeClaims = new List<string> { AiEdgeClaimTypes.Scope };
        foreach (var type in value.ScopeClaims ?? (IEnumerable<string>)EdgeAuthenticationOptions.DefaultScopeClaims)
        {
            if (!scopeClaims.Contains(type))
            {
                scopeClaims.Add(type);
            }
        }

        ScopeClaims = [.. scopeClaims];
        var app = authentication.Value;
        AppSchemes = CountAppSchemes(app);
        var appDefault = app.DefaultAuthenticateScheme ?? app.DefaultScheme;
        AppDefaultScheme = appDefault is null || IsEdgeScheme(appDefault) ? null : appDefault;
        ReadsAuthorization = JwtEnabled || ApiKeysAcceptBearer || AppSchemes > 0;

        // Nobody else could validate a bearer token: API keys keep judging every one ("the API key is not valid").
        ApiKeysClaimEveryBearer = !JwtEnabled && AppSchemes == 0;
    }

    public bool RequireAuthenticatedCaller { get; }

    public bool RejectInvalidCredentials { get; }

    /// <summary>Gets the API keys in effect (swapped whole on a configuration reload).</summary>
    public ApiKeyStore ApiKeys => _apiKeys;

    public bool ApiKeysEnabled { get; }

    /// <summary>The API key header, or <see langword="null"/> when no API keys are configured (the header is then ignored).</summary>
    public string? ApiKeyHeader { get; }

    public bool ApiKeysAcceptBearer { get; }

    /// <summary>Whether an unknown JWT-shaped bearer value is refused by API keys (no other scheme could judge it).</summary>
    public bool ApiKeysClaimEveryBearer { get; }

    public bool JwtEnabled { get; }

    public int MaxTokenLength { get; }

    /// <summary>The plan claim of any scheme's identities.</summary>
    public string PlanClaim { get; }

    /// <summary>The plan claim of AiEdge JWT identities.</summary>
    public string JwtPlanClaim { get; }

    /// <summary>The claim types whose values are scopes; always holds <see cref="AiEdgeClaimTypes.Scope"/> first.</summary>
    public string[] ScopeClaims { get; }

    /// <summary>How many authentication schemes the app registered besides AiEdge's.</summary>
    public int AppSchemes { get; }

    /// <summary>The app's own default authenticate scheme (explicit or inferred), asked when AiEdge's schemes do not succeed.</summary>
    public string? AppDefaultScheme { get; }

    public bool ReadsAuthorization { get; }

    public static bool IsJwtEnabled(EdgeJwtOptions jwt)
        => jwt.SigningKeys.Count > 0 || !string.IsNullOrWhiteSpace(jwt.Authority) || !string.IsNullOrWhiteSpace(jwt.MetadataAddress);

    /// <summary>AiEdge's schemes: <c>AiEdge</c>, <c>AiEdge.ApiKey</c>, <c>AiEdge.JwtBearer</c>.</summary>
    public static bool IsEdgeScheme(string name) => name.StartsWith(EdgeAuthenticationDefaults.AuthenticationScheme, StringComparison.Ordinal);

    public static int CountAppSchemes(AuthenticationOptions options)
    {
        var count = 0;
        foreach (var scheme in options.Schemes)
        {
            if (!IsEdgeScheme(scheme.Name))
            {
                count++;
            }
        }

        return count;
    }

    /// <summary>Gets whether the request carries a header this package reads (cheap: two header lookups).</summary>
    public bool HasCredentials(HttpRequest request)
        => (ReadsAuthorization && request.Headers.Authorization.Count > 0)
        || (ApiKeyHeader is not null && request.Headers.ContainsKey(ApiKeyHeader));

    public Credential Read(HttpRequest request)
    {
        var credential = CredentialReader.Read(request, ApiKeyHeader);
        return credential.Kind == CredentialKind.Bearer && !ReadsAuthorization ? new Credential(CredentialKind.Foreign) : credential;
    }

    /// <summary>Picks the scheme that judges the request: API keys for the key header, JWT for JWT-shaped bearer tokens.</summary>
    public string SelectScheme(HttpRequest request)
    {
        var credential = Read(request);
        return credential.Kind switch
        {
            CredentialKind.ApiKey => EdgeAuthenticationDefaults.ApiKeyScheme,
            CredentialKind.Bearer when JwtEnabled && (!ApiKeysAcceptBearer || LooksLikeJwt(credential.Value)) => EdgeAuthenticationDefaults.JwtBearerScheme,
            CredentialKind.Bearer => EdgeAuthenticationDefaults.ApiKeyScheme,
            _ => JwtEnabled ? EdgeAuthenticationDefaults.JwtBearerScheme : EdgeAuthenticationDefaults.ApiKeyScheme,
        };
    }

    /// <summary>Gets whether the caller holds <paramref name="scope"/> in any configured scope claim, space-delimited or one per claim.</summary>
    public bool HasScope(ClaimsPrincipal user, string scope)
    {
        foreach (var identity in user.Identities)
        {
            foreach (var claim in identity.Claims)
            {
                if (Array.IndexOf(ScopeClaims, claim.Type) >= 0 && ContainsScope(claim.Value, scope))
                {
                    return true;
                }
            }
        }

        return false;
    }

    /// <summary>
    /// Gives a caller authenticated by a scheme other than AiEdge's its plan: the value of <see cref="PlanClaim"/>
    /// becomes an <see cref="AiEdgeClaimTypes.Plan"/> claim (in an added identity, issued by the original claim's
    /// issuer) unless the caller already has one.
    /// </summary>
    public void AddPlan(ClaimsPrincipal user)
    {
        Claim? plan = null;
        foreach (var identity in user.Identities)
        {
            foreach (var claim in identity.Claims)
            {
                if (string.Equals(claim.Type, AiEdgeClaimTypes.Plan, StringComparison.Ordinal))
                {
                    return;
                }

                if (plan is null && claim.Value.Length > 0 && string.Equals(claim.Type, PlanClaim, StringComparison.Ordinal))
                {
                    plan = claim;
                }
            }
        }

        if (plan is not null)
        {
            user.AddIdentity(new ClaimsIdentity([new Claim(AiEdgeClaimTypes.Plan, plan.Value, ClaimValueTypes.String, plan.Issuer)]));
        }
    }

    private static bool ContainsScope(string value, string scope)
    {
        foreach (var range in value.AsSpan().Split(' '))
        {
            if (value.AsSpan(range.Start.Value, range.End.Value - range.Start.Value).SequenceEqual(scope))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>A compact JWS has exactly three dot-separated parts.</summary>
    internal static bool LooksLikeJwt(ReadOnlySpan<char> token) => token.Count('.') == 2;

    public void Dispose() => _subscription?.Dispose();
}
