namespace AiEdge.Middleware.Security;

/// <summary>
/// Options of the security headers, bound from <c>AiEdge:SecurityHeaders</c>. The header properties make up the
/// default policy (the API preset); set one to an empty string to stop sending that header. Endpoints can use a
/// named policy instead (<see cref="AddPolicy"/>, <c>.WithSecurityHeadersPolicy("docs")</c>).
/// </summary>
public sealed class SecurityHeadersOptions
{
    private readonly Dictionary<string, SecurityHeadersPolicy> _policies = new(StringComparer.Ordinal);

    /// <summary>Gets or sets whether security headers are sent.</summary>
    /// <value>Defaults to <see langword="true"/>. Key: <c>AiEdge:SecurityHeaders:Enabled</c>.</value>
    public bool Enabled { get; set; } = true;

    /// <summary>Gets or sets <c>X-Content-Type-Options</c>.</summary>
    /// <value>Defaults to <c>nosniff</c>. Key: <c>AiEdge:SecurityHeaders:ContentTypeOptions</c>.</value>
    public string? ContentTypeOptions { get; set; } = "nosniff";

    /// <summary>Gets or sets <c>X-Frame-Options</c>.</summary>
    /// <value>Defaults to <c>DENY</c>. Key: <c>AiEdge:SecurityHeaders:FrameOptions</c>.</value>
    public string? FrameOptions { get; set; } = "DENY";

    /// <summary>Gets or sets <c>Referrer-Policy</c>.</summary>
    /// <value>Defaults to <c>no-referrer</c>. Key: <c>AiEdge:SecurityHeaders:ReferrerPolicy</c>.</value>
    public string? ReferrerPolicy { get; set; } = "no-referrer";

    /// <summary>Gets or sets <c>Content-Security-Policy</c>.</summary>
    /// <value>Defaults to <c>default-src 'none'; frame-ancestors 'none'</c>. Key: <c>AiEdge:SecurityHeaders:ContentSecurityPolicy</c>.</value>
    public string? ContentSecurityPolicy { get; set; } = SecurityHeadersPolicyBuilderExtensions.ApiContentSecurityPolicy;

    /// <summary>Gets or sets <c>Cross-Origin-Opener-Policy</c>.</summary>
    /// <value>Defaults to <c>same-origin</c>. Key: <c>AiEdge:SecurityHeaders:CrossOriginOpenerPolicy</c>.</value>
    public string? CrossOriginOpenerPolicy { get; set; } = "same-origin";

    /// <summary>Gets or sets <c>Cross-Origin-Resource-Policy</c> (it does not affect CORS requests).</summary>
    /// <value>Defaults to <c>same-origin</c>. Key: <c>AiEdge:SecurityHeaders:CrossOriginResourcePolicy</c>.</value>
    public string? CrossOriginResourcePolicy { get; set; } = "same-origin";

    /// <summary>Gets or sets <c>Permissions-Policy</c>.</summary>
    /// <value>Defaults to every powerful feature off (<c>camera=(), microphone=(), ...</c>). Key: <c>AiEdge:SecurityHeaders:PermissionsPolicy</c>.</value>
    public string? PermissionsPolicy { get; set; } = SecurityHeadersPolicyBuilderExtensions.ApiPermissionsPolicy;

    /// <summary>
    /// Gets or sets <c>Strict-Transport-Security</c>, sent only when the request is HTTPS: directly, or as
    /// forwarded by a trusted proxy (<c>Request.IsHttps</c> after forwarded-header normalization).
    /// </summary>
    /// <value>Defaults to <c>max-age=31536000; includeSubDomains</c>. Key: <c>AiEdge:SecurityHeaders:StrictTransportSecurity</c>.</value>
    public string? StrictTransportSecurity { get; set; } = SecurityHeadersPolicyBuilderExtensions.DefaultStrictTransportSecurity;

    /// <summary>
    /// Gets or sets whether the <c>Server</c> header is removed from every response. Kestrel's own header is
    /// switched off too (<c>KestrelServerOptions.AddServerHeader = false</c>), which also covers the answers Kestrel
    /// gives without running the app (400, 431, ...).
    /// </summary>
    /// <value>Defaults to <see langword="true"/>. Key: <c>AiEdge:SecurityHeaders:RemoveServerHeader</c>.</value>
    public bool RemoveServerHeader { get; set; } = true;

    /// <summary>Gets further headers of the default policy, by name.</summary>
    /// <value>Empty by default. Keys: <c>AiEdge:SecurityHeaders:CustomHeaders:{name}</c>.</value>
    public IDictionary<string, string> CustomHeaders { get; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);

    /// <summary>Gets the named policies endpoints can choose with <c>.WithSecurityHeadersPolicy(name)</c>.</summary>
    public IReadOnlyDictionary<string, SecurityHeadersPolicy> Policies => _policies;

    /// <summary>
    /// Adds a named policy, e.g. for a page or API docs: <c>AddPolicy("docs", p =&gt; p.AddDefaultApiSecurityHeaders()
    /// .AddContentSecurityPolicy(csp =&gt; { csp.AddDefaultSrc().Self(); csp.AddFrameAncestors().None(); }))</c>.
    /// </summary>
    /// <param name="name">The policy name endpoints refer to.</param>
    /// <param name="configure">Builds the policy (start from a preset; nothing is inherited from the default policy).</param>
    /// <returns>The options.</returns>
    public SecurityHeadersOptions AddPolicy(string name, Action<SecurityHeadersPolicyBuilder> configure)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(configure);
        var builder = new SecurityHeadersPolicyBuilder();
        configure(builder);
        _policies[name] = builder.Build();
        return this;
    }
}
