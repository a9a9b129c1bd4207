namespace AiEdge.Middleware.Authentication;

/// <summary>
/// JWT bearer settings: the issuers, audiences, keys and algorithms a token must match. Tokens are validated by
/// ASP.NET Core's <c>JwtBearerHandler</c> under the scheme <see cref="EdgeAuthenticationDefaults.JwtBearerScheme"/>,
/// configured from these values; JWT bearer authentication is on when <see cref="SigningKeys"/>,
/// <see cref="Authority"/> or <see cref="MetadataAddress"/> is set.
/// </summary>
public sealed class EdgeJwtOptions
{
    /// <summary>
    /// Gets or sets the identity provider whose OpenID Connect discovery document
    /// (<c>{Authority}/.well-known/openid-configuration</c>) names the issuer and the JWKS of signing keys. The keys
    /// are fetched when first needed, refreshed every <see cref="AutomaticRefreshInterval"/>, and again (at most once
    /// per <see cref="RefreshInterval"/>) when a token names a key the last fetch did not hold: a rotated key is
    /// accepted without a restart.
    /// </summary>
    /// <value>Empty by default. Configuration key: <c>AiEdge:Authentication:Jwt:Authority</c>.</value>
    public string? Authority { get; set; }

    /// <summary>Gets or sets the address of the discovery document, when it is not under <see cref="Authority"/>.</summary>
    /// <value>Empty by default. Configuration key: <c>AiEdge:Authentication:Jwt:MetadataAddress</c>.</value>
    public string? MetadataAddress { get; set; }

    /// <summary>Gets or sets whether the discovery document and JWKS must be fetched over HTTPS.</summary>
    /// <value>Defaults to <see langword="true"/>; turn off only for a development identity provider. Configuration
    /// key: <c>AiEdge:Authentication:Jwt:RequireHttpsMetadata</c>.</value>
    public bool RequireHttpsMetadata { get; set; } = true;

    /// <summary>Gets or sets how often the discovery document and JWKS are fetched again.</summary>
    /// <value>Defaults to 12 hours. Configuration key: <c>AiEdge:Authentication:Jwt:AutomaticRefreshInterval</c>.</value>
    public TimeSpan AutomaticRefreshInterval { get; set; } = TimeSpan.FromHours(12);

    /// <summary>Gets or sets the shortest time between two fetches caused by a token signed with an unknown key.</summary>
    /// <value>Defaults to 5 minutes; at least 1 second. Configuration key: <c>AiEdge:Authentication:Jwt:RefreshInterval</c>.</value>
    public TimeSpan RefreshInterval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Gets the accepted issuers (<c>iss</c>); at least one is required when signing keys are configured without an
    /// <see cref="Authority"/> or <see cref="MetadataAddress"/> (whose discovery document names the issuer otherwise).
    /// </summary>
    /// <value>Empty by default. Configuration key: <c>AiEdge:Authentication:Jwt:ValidIssuers</c> (an array).</value>
    public List<string> ValidIssuers { get; } = [];

    /// <summary>Gets the accepted audiences (<c>aud</c>); at least one is required when JWT bearer authentication is on.</summary>
    /// <value>Empty by default. Configuration key: <c>AiEdge:Authentication:Jwt:ValidAudiences</c> (an array).</value>
    public List<string> ValidAudiences { get; } = [];

    /// <summary>Gets static keys that may have signed a token, beside (or instead of) the JWKS of an <see cref="Authority"/>.</summary>
    /// <value>Empty by default. Configuration section: <c>AiEdge:Authentication:Jwt:SigningKeys</c> (an array).</value>
    public List<JwtSigningKey> SigningKeys { get; } = [];

    /// <summary>
    /// Gets the accepted signature algorithms (<c>alg</c>), e.g. <c>RS256</c>, <c>ES256</c>, <c>HS256</c>. When empty, the
    /// algorithms of the configured key types are accepted (HS* for secrets, RS*/PS* for RSA keys, ES* for EC keys; with
    /// an authority, RS*/PS*/ES*).
    /// <c>none</c> is never accepted; an algorithm is only ever checked with a key of its own family.
    /// </summary>
    /// <value>Empty by default. Configuration key: <c>AiEdge:Authentication:Jwt:Algorithms</c> (an array).</value>
    public List<string> Algorithms { get; } = [];

    /// <summary>Gets or sets the tolerated difference between the issuer's clock and ours when checking <c>exp</c> and <c>nbf</c>.</summary>
    /// <value>Defaults to 1 minute; at most 5 minutes. Configuration key: <c>AiEdge:Authentication:Jwt:ClockSkew</c> (e.g. <c>"00:00:30"</c>).</value>
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Gets or sets the token claim holding the caller's plan, for tokens of this scheme only.</summary>
    /// <value>Defaults to none: <see cref="EdgeAuthenticationOptions.PlanClaim"/> applies. Configuration key:
    /// <c>AiEdge:Authentication:Jwt:PlanClaim</c>.</value>
    public string? PlanClaim { get; set; }

    /// <summary>Gets or sets the longest token accepted, in characters; longer tokens are refused before parsing.</summary>
    /// <value>Defaults to 8192. Configuration key: <c>AiEdge:Authentication:Jwt:MaxTokenLength</c>.</value>
    public int MaxTokenLength { get; set; } = 8192;
}
