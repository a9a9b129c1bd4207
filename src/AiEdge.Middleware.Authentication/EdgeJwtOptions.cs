namespace AiEdge.Middleware.Authentication;

/// <summary>JWT bearer settings: the issuers, audiences, keys and algorithms a token must match.</summary>
public sealed class EdgeJwtOptions
{
    /// <summary>Gets the accepted issuers (<c>iss</c>); at least one is required when signing keys are configured.</summary>
    /// <value>Empty by default. Configuration key: <c>AiEdge:Authentication:Jwt:ValidIssuers</c> (an array).</value>
    public List<string> ValidIssuers { get; } = [];

    /// <summary>Gets the accepted audiences (<c>aud</c>); at least one is required when signing keys are configured.</summary>
    /// <value>Empty by default. Configuration key: <c>AiEdge:Authentication:Jwt:ValidAudiences</c> (an array).</value>
    public List<string> ValidAudiences { get; } = [];

    /// <summary>Gets the keys that may have signed a token. JWT bearer authentication is on when at least one is configured.</summary>
    /// <value>Empty by default. Configuration section: <c>AiEdge:Authentication:Jwt:SigningKeys</c> (an array).</value>
    public List<JwtSigningKey> SigningKeys { get; } = [];

    /// <summary>
    /// Gets the accepted signature algorithms (<c>alg</c>), e.g. <c>RS256</c>, <c>ES256</c>, <c>HS256</c>. When empty, the
    /// algorithms of the configured key types are accepted (HS* for secrets, RS*/PS* for RSA keys, ES* for EC keys).
    /// <c>none</c> is never accepted; an algorithm is only ever checked with a key of its own family.
    /// </summary>
    /// <value>Empty by default. Configuration key: <c>AiEdge:Authentication:Jwt:Algorithms</c> (an array).</value>
    public List<string> Algorithms { get; } = [];

    /// <summary>Gets or sets the tolerated difference between the issuer's clock and ours when checking <c>exp</c> and <c>nbf</c>.</summary>
    /// <value>Defaults to 1 minute; at most 5 minutes. Configuration key: <c>AiEdge:Authentication:Jwt:ClockSkew</c> (e.g. <c>"00:00:30"</c>).</value>
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Gets or sets the token claim holding the caller's plan.</summary>
    /// <value>Defaults to <c>plan</c>. Configuration key: <c>AiEdge:Authentication:Jwt:PlanClaim</c>.</value>
    public string PlanClaim { get; set; } = "plan";

    /// <summary>Gets or sets the longest token accepted, in characters; longer tokens are refused before parsing.</summary>
    /// <value>Defaults to 8192. Configuration key: <c>AiEdge:Authentication:Jwt:MaxTokenLength</c>.</value>
    public int MaxTokenLength { get; set; } = 8192;
}
