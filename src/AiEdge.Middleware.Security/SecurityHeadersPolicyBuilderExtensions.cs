using AiEdge.Middleware.Security.Internal;

namespace AiEdge.Middleware.Security;

/// <summary>The fine-grained verbs of <see cref="SecurityHeadersPolicyBuilder"/> and the presets built from them.</summary>
public static class SecurityHeadersPolicyBuilderExtensions
{
    /// <summary>The API preset's <c>Content-Security-Policy</c>: nothing may load, nothing may frame the response.</summary>
    public const string ApiContentSecurityPolicy = "default-src 'none'; frame-ancestors 'none'";

    /// <summary>The API preset's <c>Permissions-Policy</c>: every powerful feature off.</summary>
    public const string ApiPermissionsPolicy = "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), payment=(), usb=()";

    /// <summary>The API preset's <c>Strict-Transport-Security</c> (one year, subdomains included), sent over HTTPS only.</summary>
    public const string DefaultStrictTransportSecurity = "max-age=31536000; includeSubDomains";

    /// <summary>
    /// The preset for JSON APIs: <c>X-Content-Type-Options: nosniff</c>, <c>X-Frame-Options: DENY</c>,
    /// <c>Referrer-Policy: no-referrer</c>, <c>Content-Security-Policy: default-src 'none'; frame-ancestors 'none'</c>,
    /// <c>Cross-Origin-Opener-Policy: same-origin</c>, <c>Cross-Origin-Resource-Policy: same-origin</c>, a
    /// <c>Permissions-Policy</c> turning every powerful feature off, HSTS for a year over HTTPS, and no <c>Server</c> header.
    /// </summary>
    /// <param name="builder">The policy builder.</param>
    /// <returns>The builder.</returns>
    public static SecurityHeadersPolicyBuilder AddDefaultApiSecurityHeaders(this SecurityHeadersPolicyBuilder builder)
        => builder
            .AddContentTypeOptionsNoSniff()
            .AddFrameOptionsDeny()
            .AddReferrerPolicyNoReferrer()
            .AddContentSecurityPolicy(ApiContentSecurityPolicy)
            .AddCrossOriginOpenerPolicySameOrigin()
            .AddCrossOriginResourcePolicySameOrigin()
            .AddPermissionsPolicy(ApiPermissionsPolicy)
            .AddStrictTransportSecurityMaxAgeIncludeSubDomains()
            .RemoveServerHeader();

    /// <summary>Sets <c>X-Content-Type-Options: nosniff</c>.</summary>
    /// <param name="builder">The policy builder.</param>
    /// <returns>The builder.</returns>
    public static SecurityHeadersPolicyBuilder AddContentTypeOptionsNoSniff(this SecurityHeadersPolicyBuilder builder)
        => Checked(builder).AddCustomHeader("X-Content-Type-Options", "nosniff");

    /// <summary>Sets <c>X-Frame-Options: DENY</c>.</summary>
    /// <param name="builder">The policy builder.</param>
    /// <returns>The builder.</returns>
    public static SecurityHeadersPolicyBuilder AddFrameOptionsDeny(this SecurityHeadersPolicyBuilder builder)
        => Checked(builder).AddCustomHeader("X-Frame-Options", "DENY");

    /// <summary>Sets <c>X-Frame-Options: SAMEORIGIN</c>.</summary>
    /// <param name="builder">The policy builder.</param>
    /// <returns>The builder.</returns>
    public static SecurityHeadersPolicyBuilder AddFrameOptionsSameOrigin(this SecurityHeadersPolicyBuilder builder)
        => Checked(builder).AddCustomHeader("X-Frame-Options", "SAMEORIGIN");

    /// <summary>Sets <c>Referrer-Policy: no-referrer</c>.</summary>
    /// <param name="builder">The policy builder.</param>
    /// <returns>The builder.</returns>
    public static SecurityHeadersPolicyBuilder AddReferrerPolicyNoReferrer(this SecurityHeadersPolicyBuilder builder)
        => Checked(builder).AddCustomHeader("Referrer-Policy", "no-referrer");

    /// <summary>Sets <c>Referrer-Policy: strict-origin-when-cross-origin</c>.</summary>
    /// <param name="builder">The policy builder.</param>
    /// <returns>The builder.</returns>
    public static SecurityHeadersPolicyBuilder AddReferrerPolicyStrictOriginWhenCrossOrigin(this SecurityHeadersPolicyBuilder builder)
        => Checked(builder).AddCustomHeader("Referrer-Policy", "strict-origin-when-cross-origin");

    /// <summary>Sets <c>Content-Security-Policy</c> to <paramref name="policy"/> as written.</summary>
    /// <param name="builder">The policy builder.</param>
    /// <param name="policy">The policy text, e.g. <c>default-src 'self'</c>.</param>
    /// <returns>The builder.</returns>
    public static SecurityHeadersPolicyBuilder AddContentSecurityPolicy(this SecurityHeadersPolicyBuilder builder, string policy)
        => Checked(builder).AddCustomHeader("Content-Security-Policy", policy);

    /// <summary>Sets <c>Content-Security-Policy</c> from a fluent <see cref="ContentSecurityPolicyBuilder"/>.</summary>
    /// <param name="builder">The policy builder.</param>
    /// <param name="configure">Adds the directives, e.g. <c>csp =&gt; csp.AddDefaultSrc().Self()</c>.</param>
    /// <returns>The builder.</returns>
    public static SecurityHeadersPolicyBuilder AddContentSecurityPolicy(this SecurityHeadersPolicyBuilder builder, Action<ContentSecurityPolicyBuilder> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        var csp = new ContentSecurityPolicyBuilder();
        configure(csp);
        return Checked(builder).AddCustomHeader("Content-Security-Policy", csp.Build());
    }

    /// <summary>Sets <c>Cross-Origin-Opener-Policy: same-origin</c>.</summary>
    /// <param name="builder">The policy builder.</param>
    /// <returns>The builder.</returns>
    public static SecurityHeadersPolicyBuilder AddCrossOriginOpenerPolicySameOrigin(this SecurityHeadersPolicyBuilder builder)
        => Checked(builder).AddCustomHeader("Cross-Origin-Opener-Policy", "same-origin");

    /// <summary>
    /// Sets <c>Cross-Origin-Resource-Policy: same-origin</c>. CORS requests (<c>fetch</c> from an allowed origin) are
    /// not affected; it stops other sites embedding responses with <c>no-cors</c> requests.
    /// </summary>
    /// <param name="builder">The policy builder.</param>
    /// <returns>The builder.</returns>
    public static SecurityHeadersPolicyBuilder AddCrossOriginResourcePolicySameOrigin(this SecurityHeadersPolicyBuilder builder)
        => Checked(builder).AddCustomHeader("Cross-Origin-Resource-Policy", "same-origin");

    /// <summary>Sets <c>Cross-Origin-Resource-Policy: same-site</c>.</summary>
    /// <param name="builder">The policy builder.</param>
    /// <returns>The builder.</returns>
    public static SecurityHeadersPolicyBuilder AddCrossOriginResourcePolicySameSite(this SecurityHeadersPolicyBuilder builder)
        => Checked(builder).AddCustomHeader("Cross-Origin-Resource-Policy", "same-site");

    /// <summary>Sets <c>Cross-Origin-Resource-Policy: cross-origin</c> (for public assets embedded by any site).</summary>
    /// <param name="builder">The policy builder.</param>
    /// <returns>The builder.</returns>
    public static SecurityHeadersPolicyBuilder AddCrossOriginResourcePolicyCrossOrigin(this SecurityHeadersPolicyBuilder builder)
        => Checked(builder).AddCustomHeader("Cross-Origin-Resource-Policy", "cross-origin");

    /// <summary>Sets <c>Permissions-Policy</c> to <paramref name="policy"/> as written.</summary>
    /// <param name="builder">The policy builder.</param>
    /// <param name="policy">The policy text, e.g. <c>camera=(), microphone=()</c>.</param>
    /// <returns>The builder.</returns>
    public static SecurityHeadersPolicyBuilder AddPermissionsPolicy(this SecurityHeadersPolicyBuilder builder, string policy)
        => Checked(builder).AddCustomHeader("Permissions-Policy", policy);

    /// <summary>Sends <c>Strict-Transport-Security: max-age=31536000; includeSubDomains</c> on HTTPS requests.</summary>
    /// <param name="builder">The policy builder.</param>
    /// <returns>The builder.</returns>
    public static SecurityHeadersPolicyBuilder AddStrictTransportSecurityMaxAgeIncludeSubDomains(this SecurityHeadersPolicyBuilder builder)
        => Checked(builder).AddCustomHeader("Strict-Transport-Security", DefaultStrictTransportSecurity);

    /// <summary>Sends <c>Strict-Transport-Security</c> on HTTPS requests (direct, or forwarded by a trusted proxy).</summary>
    /// <param name="builder">The policy builder.</param>
    /// <param name="maxAge">How long browsers keep using HTTPS only.</param>
    /// <param name="includeSubDomains">Whether subdomains are included.</param>
    /// <param name="preload">Whether to add <c>preload</c> (only when the domain is submitted to the preload list).</param>
    /// <returns>The builder.</returns>
    public static SecurityHeadersPolicyBuilder AddStrictTransportSecurity(this SecurityHeadersPolicyBuilder builder, TimeSpan maxAge, bool includeSubDomains = true, bool preload = false)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxAge, TimeSpan.Zero);
        var value = "max-age=" + ((long)maxAge.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture)
            + (includeSubDomains ? "; includeSubDomains" : string.Empty)
            + (preload ? "; preload" : string.Empty);
        return Checked(builder).AddCustomHeader("Strict-Transport-Security", value);
    }

    /// <summary>Removes the <c>Server</c> header (NGINX's <c>server_tokens off</c>, but with nothing left to read).</summary>
    /// <param name="builder">The policy builder.</param>
    /// <returns>The builder.</returns>
    public static SecurityHeadersPolicyBuilder RemoveServerHeader(this SecurityHeadersPolicyBuilder builder)
        => Checked(builder).RemoveHeader("Server");

    private static SecurityHeadersPolicyBuilder Checked(SecurityHeadersPolicyBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder;
    }
}
