using System.Security.Claims;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace AiEdge.Middleware.Authentication.Internal;

/// <summary>
/// Configures ASP.NET Core's <see cref="JwtBearerHandler"/> under <see cref="EdgeAuthenticationDefaults.JwtBearerScheme"/>
/// from <c>AiEdge:Authentication:Jwt</c>. JwtBearer validates (signature, issuer, audience, discovery and JWKS
/// rotation); this adds what it does not do: keys from configuration (PEM, base64 secrets), each algorithm bound to
/// its key family, lifetime against the injected <see cref="TimeProvider"/>, and the AiEdge claims and answers.
/// </summary>
internal sealed class EdgeJwtBearerOptionsSetup(IOptions<EdgeAuthenticationOptions> options, TimeProvider time, AuthenticationSettings settings)
    : IConfigureNamedOptions<JwtBearerOptions>
{
    public void Configure(JwtBearerOptions options) => Configure(Options.DefaultName, options);

    public void Configure(string? name, JwtBearerOptions bearer)
    {
        if (!string.Equals(name, EdgeAuthenticationDefaults.JwtBearerScheme, StringComparison.Ordinal))
        {
            return;
        }

        var jwt = options.Value.Jwt;
        var keys = new List<SecurityKey>(jwt.SigningKeys.Count);
        var families = new HashSet<string>(StringComparer.Ordinal);
        foreach (var configured in jwt.SigningKeys)
        {
            // Validated at startup; a key that does not load leaves the scheme without it.
            if (JwtKeyLoader.TryLoad(configured, out var key, out _))
            {
                keys.Add(key!);
                families.UnionWith(JwtKeyLoader.AlgorithmsOf(key!));
            }
        }

        var discovery = !string.IsNullOrWhiteSpace(jwt.Authority) || !string.IsNullOrWhiteSpace(jwt.MetadataAddress);
        if (discovery)
        {
            families.UnionWith(JwtKeyLoader.RsaAlgorithms);
            families.UnionWith(JwtKeyLoader.EcdsaAlgorithms);
            bearer.Authority = string.IsNullOrWhiteSpace(jwt.Authority) ? null : jwt.Authority;
            bearer.MetadataAddress = string.IsNullOrWhiteSpace(jwt.MetadataAddress) ? null! : jwt.MetadataAddress;
            bearer.RequireHttpsMetadata = jwt.RequireHttpsMetadata;
            bearer.AutomaticRefreshInterval = jwt.AutomaticRefreshInterval;
            bearer.RefreshInterval = jwt.RefreshInterval;
        }

        var allowed = jwt.Algorithms.Count > 0 ? new HashSet<string>(jwt.Algorithms, StringComparer.Ordinal) : families;
        allowed.Remove(SecurityAlgorithms.None);
        var lifetime = new LifetimeCheck(time, jwt.ClockSkew);
        bearer.TimeProvider = time;
        bearer.MapInboundClaims = false;
        bearer.TokenHandlers.Clear();
        bearer.TokenHandlers.Add(new JsonWebTokenHandler { MaximumTokenSizeInBytes = jwt.MaxTokenLength, MapInboundClaims = false });
        bearer.TokenValidationParameters = new TokenValidationParameters
        {
            ValidIssuers = jwt.ValidIssuers.Count > 0 ? [.. jwt.ValidIssuers] : null,
            ValidAudiences = [.. jwt.ValidAudiences],
            IssuerSigningKeys = keys,
            ValidateIssuer = true,
            ValidateAudience = true,
            ValidateLifetime = true,
            ValidateIssuerSigningKey = true,
            RequireExpirationTime = true,
            RequireSignedTokens = true,
            RequireAudience = true,
            TryAllIssuerSigningKeys = true,
            ClockSkew = jwt.ClockSkew,
            LifetimeValidator = lifetime.Validate,
            AlgorithmValidator = (algorithm, key, _, _) => allowed.Contains(algorithm) && JwtKeyLoader.Fits(algorithm, key),
            AuthenticationType = EdgeAuthenticationDefaults.JwtBearerScheme,
            NameClaimType = ClaimTypes.NameIdentifier,
            RoleClaimType = ClaimTypes.Role,
            LogValidationExceptions = false,
        };
        bearer.Events = new EdgeJwtBearerEvents(settings);
    }

    /// <summary>Checks <c>exp</c> and <c>nbf</c> against the injected clock with the configured skew; <c>exp</c> is required.</summary>
    private sealed class LifetimeCheck(TimeProvider time, TimeSpan clockSkew)
    {
        public bool Validate(DateTime? notBefore, DateTime? expires, SecurityToken token, TokenValidationParameters parameters)
        {
            if (expires is null)
            {
                throw new SecurityTokenNoExpirationException("The token has no expiration time.");
            }

            var now = time.GetUtcNow().UtcDateTime;
            if (notBefore is { } nbf && nbf.ToUniversalTime() > now + clockSkew)
            {
                throw new SecurityTokenNotYetValidException("The token is not valid yet.") { NotBefore = nbf };
            }

            if (expires.Value.ToUniversalTime() < now - clockSkew)
            {
                throw new SecurityTokenExpiredException("The token is expired.") { Expires = expires.Value };
            }

            return true;
        }
    }
}

/// <summary>
/// The AiEdge behaviour of the JwtBearer scheme. Each override first runs the delegate the app may have set on
/// <c>options.Events</c> (see <c>ConfigureEdgeJwtBearer</c>), then does its own part unless the app decided.
/// </summary>
internal sealed class EdgeJwtBearerEvents(AuthenticationSettings settings) : JwtBearerEvents
{
    /// <summary>Reads the token strictly (RFC 6750), refusing malformed headers and oversized tokens before parsing.</summary>
    public override async Task MessageReceived(MessageReceivedContext context)
    {
        await base.MessageReceived(context).ConfigureAwait(false);
        if (context.Result is not null)
        {
            return;
        }

        if (context.Token is { } token)
        {
            if (token.Length > settings.MaxTokenLength)
            {
                context.Fail(CredentialFailure.TokenTooLarge);
            }

            return;
        }

        var credential = settings.JwtEnabled ? settings.Read(context.Request) : default;
        switch (credential.Kind)
        {
            case CredentialKind.Malformed:
                context.Fail(credential.Failure!);
                break;
            case CredentialKind.Bearer when credential.Value.Length > settings.MaxTokenLength:
                context.Fail(CredentialFailure.TokenTooLarge);
                break;
            case CredentialKind.Bearer:
                context.Token = credential.ValueString();
                break;
            default:
                context.NoResult();
                break;
        }
    }

    /// <summary>Adds the AiEdge claims in place: name identifier from <c>sub</c>, plan, one scope claim per scope.</summary>
    public override async Task TokenValidated(TokenValidatedContext context)
    {
        await base.TokenValidated(context).ConfigureAwait(false);
        if (context.Result is null && context.Principal?.Identity is ClaimsIdentity identity)
        {
            AddEdgeClaims(identity, settings.JwtPlanClaim);
        }
    }

    /// <summary>Turns JwtBearer's exception into the fixed, bounded reason AiEdge reports.</summary>
    public override async Task AuthenticationFailed(AuthenticationFailedContext context)
    {
        await base.AuthenticationFailed(context).ConfigureAwait(false);
        if (context.Result is null)
        {
            context.Fail(Classify(context.Exception));
        }
    }

    /// <summary>401 problem details with an RFC 6750 challenge, as every AiEdge refusal.</summary>
    public override async Task Challenge(JwtBearerChallengeContext context)
    {
        await base.Challenge(context).ConfigureAwait(false);
        if (!context.Handled)
        {
            context.HandleResponse();
            await AuthenticationAnswers.ChallengeAsync(context.HttpContext, context.AuthenticateFailure as CredentialFailure).ConfigureAwait(false);
        }
    }

    /// <summary>403 problem details <c>insufficient_scope</c>.</summary>
    public override async Task Forbidden(ForbiddenContext context)
    {
        await base.Forbidden(context).ConfigureAwait(false);
        await AuthenticationAnswers.ForbidAsync(context.HttpContext, null).ConfigureAwait(false);
    }

    private static void AddEdgeClaims(ClaimsIdentity identity, string planClaim)
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

            if (string.Equals(claim.Type, planClaim, StringComparison.Ordinal) && claim.Value.Length > 0)
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
                foreach (var range in claim.Value.AsSpan().Split(' '))
                {
                    var scope = claim.Value.AsSpan(range.Start.Value, range.End.Value - range.Start.Value);
                    if (!scope.IsEmpty)
                    {
                        identity.AddClaim(new Claim(AiEdgeClaimTypes.Scope, scope.ToString(), ClaimValueTypes.String, claim.Issuer));
                    }
                }
            }
        }
    }

    internal static CredentialFailure Classify(Exception? exception) => exception switch
    {
        CredentialFailure failure => failure,
        AggregateException { InnerExceptions.Count: > 0 } aggregate => Classify(aggregate.InnerExceptions[0]),
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
