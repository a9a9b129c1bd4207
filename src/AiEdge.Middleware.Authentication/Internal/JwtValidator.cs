using System.Security.Claims;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace AiEdge.Middleware.Authentication.Internal;

/// <summary>
/// Validates bearer JWTs with <see cref="JsonWebTokenHandler"/>: issuer, audience, lifetime against the injected
/// <see cref="TimeProvider"/> with clock skew, signature by a configured key, algorithm allow-list with each
/// algorithm only ever checked against a key of its own family. Builds the caller's principal with AiEdge claims.
/// </summary>
internal sealed class JwtValidator
{
    private readonly JsonWebTokenHandler _handler;
    private readonly TokenValidationParameters _parameters;
    private readonly string _planClaim;
    private readonly TimeProvider _time;
    private readonly TimeSpan _clockSkew;

    public JwtValidator(EdgeJwtOptions options, TimeProvider time)
    {
        var keys = new List<SecurityKey>(options.SigningKeys.Count);
        var families = new HashSet<string>(StringComparer.Ordinal);
        foreach (var configured in options.SigningKeys)
        {
            if (!JwtKeyLoader.TryLoad(configured, out var key, out var error))
            {
                throw new InvalidOperationException(error);
            }

            keys.Add(key!);
            families.UnionWith(key switch
            {
                SymmetricSecurityKey => JwtKeyLoader.HmacAlgorithms,
                RsaSecurityKey => JwtKeyLoader.RsaAlgorithms,
                _ => JwtKeyLoader.EcdsaAlgorithms,
            });
        }

        var allowed = options.Algorithms.Count > 0 ? new HashSet<string>(options.Algorithms, StringComparer.Ordinal) : families;
        allowed.Remove(SecurityAlgorithms.None);
        AllowedAlgorithms = allowed;
        MaxTokenLength = options.MaxTokenLength;
        _planClaim = options.PlanClaim;
        _time = time;
        _clockSkew = options.ClockSkew;
        _handler = new JsonWebTokenHandler { MaximumTokenSizeInBytes = options.MaxTokenLength, MapInboundClaims = false };
        _parameters = new TokenValidationParameters
        {
            ValidIssuers = [.. options.ValidIssuers],
            ValidAudiences = [.. options.ValidAudiences],
            IssuerSigningKeys = keys,
            ValidateIssuer = true,
            ValidateAudience = true,
            ValidateLifetime = true,
            ValidateIssuerSigningKey = true,
            RequireExpirationTime = true,
            RequireSignedTokens = true,
            RequireAudience = true,
            TryAllIssuerSigningKeys = true,
            ClockSkew = options.ClockSkew,
            LifetimeValidator = ValidateLifetime,
            AlgorithmValidator = IsAllowed,
            AuthenticationType = EdgeAuthenticationDefaults.JwtBearerScheme,
            NameClaimType = ClaimTypes.NameIdentifier,
            RoleClaimType = ClaimTypes.Role,
            LogValidationExceptions = false,
        };
    }

    public IReadOnlySet<string> AllowedAlgorithms { get; }

    public int MaxTokenLength { get; }

    public async Task<(ClaimsPrincipal? Principal, CredentialFailure? Failure)> ValidateAsync(string token)
    {
        if (token.Length > MaxTokenLength)
        {
            return (null, CredentialFailure.TokenTooLarge);
        }

        var result = await _handler.ValidateTokenAsync(token, _parameters).ConfigureAwait(false);
        if (!result.IsValid || result.ClaimsIdentity is null)
        {
            return (null, Classify(result.Exception));
        }

        return (CreatePrincipal(result.ClaimsIdentity), null);
    }

    private bool IsAllowed(string algorithm, SecurityKey key, SecurityToken token, TokenValidationParameters parameters)
        => AllowedAlgorithms.Contains(algorithm) && JwtKeyLoader.Fits(algorithm, key);

    /// <summary>Checks <c>exp</c> and <c>nbf</c> against the injected clock with the configured skew; <c>exp</c> is required.</summary>
    private bool ValidateLifetime(DateTime? notBefore, DateTime? expires, SecurityToken token, TokenValidationParameters parameters)
    {
        if (expires is null)
        {
            throw new SecurityTokenNoExpirationException("The token has no expiration time.");
        }

        var now = _time.GetUtcNow().UtcDateTime;
        if (notBefore is { } nbf && nbf.ToUniversalTime() > now + _clockSkew)
        {
            throw new SecurityTokenNotYetValidException("The token is not valid yet.") { NotBefore = nbf };
        }

        if (expires.Value.ToUniversalTime() < now - _clockSkew)
        {
            throw new SecurityTokenExpiredException("The token is expired.") { Expires = expires.Value };
        }

        return true;
    }

    /// <summary>Adds the AiEdge claims to the validated identity in place: name identifier from <c>sub</c>, plan, one claim per scope.</summary>
    private ClaimsPrincipal CreatePrincipal(ClaimsIdentity identity)
    {
        Claim? subject = null;
        Claim? plan = null;
        List<Claim>? scopes = null;
        foreach (var claim in identity.Claims)
        {
            if (claim.Type is "scope" or "scp")
            {
                // A single "scope" claim without spaces already is one AiEdge scope claim.
                if (claim.Type == "scp" || claim.Value.Contains(' ', StringComparison.Ordinal))
                {
                    (scopes ??= []).Add(claim);
                }
            }
            else if (claim.Type == "sub")
            {
                subject = claim;
            }

            if (string.Equals(claim.Type, _planClaim, StringComparison.Ordinal) && claim.Value.Length > 0)
            {
                plan = claim;
            }
        }

        if (subject is not null)
        {
            identity.AddClaim(new Claim(ClaimTypes.NameIdentifier, subject.Value, subject.ValueType, subject.Issuer));
        }

        if (plan is not null)
        {
            identity.AddClaim(new Claim(AiEdgeClaimTypes.Plan, plan.Value, ClaimValueTypes.String, plan.Issuer));
        }

        if (scopes is not null)
        {
            foreach (var claim in scopes)
            {
                identity.TryRemoveClaim(claim);
                AddScopes(identity, claim.Value);
            }
        }

        return new ClaimsPrincipal(identity);
    }

    private static void AddScopes(ClaimsIdentity identity, string value)
    {
        foreach (var range in value.AsSpan().Split(' '))
        {
            var scope = value.AsSpan(range.Start.Value, range.End.Value - range.Start.Value);
            if (!scope.IsEmpty)
            {
                identity.AddClaim(new Claim(AiEdgeClaimTypes.Scope, scope.ToString()));
            }
        }
    }

    private static CredentialFailure Classify(Exception? exception) => exception switch
    {
        SecurityTokenExpiredException => CredentialFailure.TokenExpired,
        SecurityTokenNotYetValidException => CredentialFailure.TokenNotYetValid,
        SecurityTokenNoExpirationException => CredentialFailure.TokenWithoutExpiration,
        SecurityTokenInvalidIssuerException => CredentialFailure.InvalidIssuer,
        SecurityTokenInvalidAudienceException => CredentialFailure.InvalidAudience,
        SecurityTokenInvalidAlgorithmException => CredentialFailure.InvalidAlgorithm,
        SecurityTokenInvalidSignatureException when exception.Message.Contains("IDX10504", StringComparison.Ordinal) => CredentialFailure.UnsignedToken,
        SecurityTokenSignatureKeyNotFoundException => CredentialFailure.InvalidSignature,
        SecurityTokenInvalidSignatureException => CredentialFailure.InvalidSignature,
        SecurityTokenMalformedException => CredentialFailure.MalformedToken,
        ArgumentException => CredentialFailure.MalformedToken,
        _ => CredentialFailure.InvalidToken,
    };
}
