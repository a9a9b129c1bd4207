namespace AiEdge.Middleware.Security.Tests;

public sealed class PolicyBuilderTests
{
    [Fact]
    public void DefaultApiPreset_HasEveryHeader_HstsSeparately_AndRemovesServer()
    {
        var policy = new SecurityHeadersPolicyBuilder().AddDefaultApiSecurityHeaders().Build();

        Assert.Equal(
            ["X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy", "Content-Security-Policy", "Cross-Origin-Opener-Policy", "Cross-Origin-Resource-Policy", "Permissions-Policy"],
            policy.Headers.Select(h => h.Key));
        Assert.Equal("default-src 'none'; frame-ancestors 'none'", policy.Headers.Single(h => h.Key == "Content-Security-Policy").Value);
        Assert.Equal("max-age=31536000; includeSubDomains", policy.StrictTransportSecurity);
        Assert.Equal(["Server"], policy.RemovedHeaders);
    }

    [Fact]
    public void LaterVerb_ReplacesTheValue_WithoutDuplicating()
    {
        var policy = new SecurityHeadersPolicyBuilder().AddFrameOptionsDeny().AddFrameOptionsSameOrigin().Build();

        Assert.Equal([new KeyValuePair<string, string>("X-Frame-Options", "SAMEORIGIN")], policy.Headers);
    }

    [Fact]
    public void StrictTransportSecurity_WritesSeconds_AndFlags()
    {
        var policy = new SecurityHeadersPolicyBuilder().AddStrictTransportSecurity(TimeSpan.FromDays(730), includeSubDomains: true, preload: true).Build();

        Assert.Equal("max-age=63072000; includeSubDomains; preload", policy.StrictTransportSecurity);
    }

    [Theory]
    [InlineData("X-Test", "a\r\nSet-Cookie: x=1")]
    [InlineData("X-Test", "a\nb")]
    [InlineData("X-Test", "nul\0")]
    [InlineData("X Test", "v")]
    [InlineData("X-Test:", "v")]
    [InlineData("", "v")]
    public void AddCustomHeader_RefusesInjection(string name, string value)
        => Assert.Throws<ArgumentException>(() => new SecurityHeadersPolicyBuilder().AddCustomHeader(name, value));

    [Fact]
    public void ContentSecurityPolicy_IsWrittenInDirectiveOrder_AndContinuesARepeatedDirective()
    {
        var csp = new ContentSecurityPolicyBuilder();
        csp.AddDefaultSrc().Self();
        csp.AddScriptSrc().Self().From("https://cdn.example.com").Sha256("47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
        csp.AddConnectSrc().Self().From("https://api.example.com");
        csp.AddImgSrc().Self().Data();
        csp.AddFrameAncestors().None();
        csp.AddScriptSrc().From("https://cdn2.example.com");
        csp.AddUpgradeInsecureRequests();

        Assert.Equal(
            "default-src 'self'; script-src 'self' https://cdn.example.com 'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=' https://cdn2.example.com; "
            + "connect-src 'self' https://api.example.com; img-src 'self' data:; frame-ancestors 'none'; upgrade-insecure-requests",
            csp.Build());
    }

    [Theory]
    [InlineData("https://cdn.example.com; script-src *")]
    [InlineData("'unsafe-inline'")]
    [InlineData("https://a.example.com https://b.example.com")]
    [InlineData("https://a.example.com\r\nX-Evil: 1")]
    [InlineData("https://a.example.com,evil")]
    public void ContentSecurityPolicy_SourceCannotBreakOut(string source)
        => Assert.Throws<ArgumentException>(() => new ContentSecurityPolicyBuilder().AddScriptSrc().From(source));

    [Fact]
    public void ContentSecurityPolicy_NoneCannotBeCombined()
    {
        var csp = new ContentSecurityPolicyBuilder();
        Assert.Throws<InvalidOperationException>(() => csp.AddDefaultSrc().None().Self());
        Assert.Throws<InvalidOperationException>(() => csp.AddScriptSrc().Self().None());
    }

    [Fact]
    public void ContentSecurityPolicy_WithoutDirectives_Throws()
        => Assert.Throws<InvalidOperationException>(() => new ContentSecurityPolicyBuilder().Build());

    [Fact]
    public void ContentSecurityPolicy_BadDirectiveName_Throws()
        => Assert.Throws<ArgumentException>(() => new ContentSecurityPolicyBuilder().AddDirective("script-src; evil"));

    [Fact]
    public void ContentSecurityPolicy_FromBuilder_BecomesTheHeader()
    {
        var policy = new SecurityHeadersPolicyBuilder()
            .AddContentSecurityPolicy(csp => csp.AddDefaultSrc().None())
            .Build();

        Assert.Equal([new KeyValuePair<string, string>("Content-Security-Policy", "default-src 'none'")], policy.Headers);
    }
}
