namespace AiEdge.Middleware.Security;

/// <summary>
/// CORS for browser clients, bound from <c>AiEdge:Cors</c> and applied through ASP.NET Core's CORS services.
/// Origins are compared exactly (scheme, host and port); preflights are answered <c>204</c> before authentication
/// and rate limiting. List properties left empty take the documented defaults.
/// </summary>
public sealed class EdgeCorsOptions
{
    /// <summary>The methods allowed when <see cref="AllowedMethods"/> is empty.</summary>
    public static readonly IReadOnlyList<string> DefaultMethods = ["GET", "HEAD", "POST"];

    /// <summary>The request headers allowed when <see cref="AllowedHeaders"/> is empty.</summary>
    public static readonly IReadOnlyList<string> DefaultHeaders = ["Authorization", "Content-Type", "Idempotency-Key", "X-Api-Key"];

    /// <summary>The response headers exposed to scripts when <see cref="ExposedHeaders"/> is empty.</summary>
    public static readonly IReadOnlyList<string> DefaultExposedHeaders = ["Retry-After", "RateLimit", "RateLimit-Policy", "X-Cache"];

    /// <summary>
    /// Gets or sets the allowed origins: exact origins such as <c>https://app.example.com</c> or
    /// <c>http://localhost:5173</c>, or subdomain patterns such as <c>https://*.example.com</c> (any subdomain, at
    /// any depth, never <c>example.com</c> itself). <c>*</c> allows every origin and cannot be combined with credentials.
    /// </summary>
    /// <value>Empty by default (no cross-origin caller). Key: <c>AiEdge:Cors:AllowedOrigins</c> (an array).</value>
    public IList<string> AllowedOrigins { get; set; } = [];

    /// <summary>Gets or sets the methods allowed in preflights; <c>*</c> allows any.</summary>
    /// <value>Empty means <c>GET, HEAD, POST</c>. Key: <c>AiEdge:Cors:AllowedMethods</c>.</value>
    public IList<string> AllowedMethods { get; set; } = [];

    /// <summary>Gets or sets the request headers allowed in preflights; <c>*</c> allows any.</summary>
    /// <value>Empty means <c>Authorization, Content-Type, Idempotency-Key, X-Api-Key</c>. Key: <c>AiEdge:Cors:AllowedHeaders</c>.</value>
    public IList<string> AllowedHeaders { get; set; } = [];

    /// <summary>Gets or sets the response headers scripts may read.</summary>
    /// <value>Empty means <c>Retry-After, RateLimit, RateLimit-Policy, X-Cache</c>. Key: <c>AiEdge:Cors:ExposedHeaders</c>.</value>
    public IList<string> ExposedHeaders { get; set; } = [];

    /// <summary>Gets or sets whether browsers may send cookies and HTTP authentication (<c>Access-Control-Allow-Credentials</c>).</summary>
    /// <value>Defaults to <see langword="false"/>. Key: <c>AiEdge:Cors:AllowCredentials</c>.</value>
    public bool AllowCredentials { get; set; }

    /// <summary>Gets or sets whether every origin is allowed (the same as listing <c>*</c>); never with credentials.</summary>
    /// <value>Defaults to <see langword="false"/>. Key: <c>AiEdge:Cors:AllowAnyOrigin</c>.</value>
    public bool AllowAnyOrigin { get; set; }

    /// <summary>
    /// Gets or sets how long browsers may cache a preflight answer (<c>Access-Control-Max-Age</c>), in seconds;
    /// 0 sends none. Browsers cap it (Chromium at 7200, Firefox at 86400).
    /// </summary>
    /// <value>Defaults to 86400. Key: <c>AiEdge:Cors:PreflightMaxAgeSeconds</c>.</value>
    public int PreflightMaxAgeSeconds { get; set; } = 86400;
}
