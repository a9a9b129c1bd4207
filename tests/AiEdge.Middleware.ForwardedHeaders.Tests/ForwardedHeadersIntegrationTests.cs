using System.Net;
using System.Net.Http.Json;
using AiEdge.Middleware.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace AiEdge.Middleware.ForwardedHeaders.Tests;

public sealed class ForwardedHeadersIntegrationTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private sealed record Echo(string? Ip, int Port, string Scheme, string? Host, string PathBase, string? PeerIp, int Hops, string? OriginalScheme, string? OriginalHost, string? OriginalPathBase, int FeatureId);

    /// <summary>A TestServer host whose peer address comes from the test (TestServer has none of its own).</summary>
    private static Task<TestApp> StartAsync(IDictionary<string, string?>? configuration = null, Action<EdgeForwardedHeadersOptions>? configure = null, bool kestrel = false)
    {
        void Services(WebApplicationBuilder builder) => builder.Services.AddAiEdgeCore(edge => edge.AddForwardedHeaders(configure));

        static void App(WebApplication app)
        {
            app.Use(static (context, next) =>
            {
                if (context.Request.Headers.TryGetValue("X-Test-Peer", out var peer))
                {
                    context.Connection.RemoteIpAddress = IPAddress.Parse(peer.ToString());
                }

                return next(context);
            });
            app.UseAiEdge();
            app.MapGet("/echo", static (HttpContext context) =>
            {
                var feature = context.Features.Get<IResolvedClientFeature>();
                return Results.Json(new Echo(
                    context.Connection.RemoteIpAddress?.ToString(),
                    context.Connection.RemotePort,
                    context.Request.Scheme,
                    context.Request.Host.Value,
                    context.Request.PathBase.Value ?? string.Empty,
                    feature?.PeerIpAddress?.ToString(),
                    feature?.AppliedHops ?? -1,
                    feature?.OriginalScheme,
                    feature?.OriginalHost.Value,
                    feature?.OriginalPathBase.Value,
                    feature is null ? 0 : System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(feature)));
            });
        }

        return kestrel ? TestApp.StartKestrelAsync(Services, App, configuration) : TestApp.StartAsync(Services, App, configuration);
    }

    private static async Task<Echo> GetAsync(TestApp app, params (string Name, string Value)[] headers)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/echo");
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        using var response = await app.Client.SendAsync(request).WaitAsync(Timeout);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<Echo>().WaitAsync(Timeout))!;
    }

    [Fact]
    public async Task TrustedPeer_AppliesClientSchemeHostAndPrefix_KeepingOriginals()
    {
        await using var app = await StartAsync();
        var echo = await GetAsync(
            app,
            ("X-Test-Peer", "127.0.0.1"),
            ("X-Forwarded-For", "203.0.113.7:5555"),
            ("X-Forwarded-Proto", "https"),
            ("X-Forwarded-Host", "api.example.com"),
            ("X-Forwarded-Prefix", "/models"));

        Assert.Equal("203.0.113.7", echo.Ip);
        Assert.Equal(5555, echo.Port);
        Assert.Equal("https", echo.Scheme);
        Assert.Equal("api.example.com", echo.Host);
        Assert.Equal("/models", echo.PathBase);
        Assert.Equal("127.0.0.1", echo.PeerIp);
        Assert.Equal(1, echo.Hops);
        Assert.Equal("http", echo.OriginalScheme);
        Assert.Equal("localhost", echo.OriginalHost);
        Assert.Equal(string.Empty, echo.OriginalPathBase);
    }

    [Fact]
    public async Task UntrustedPeer_HeadersIgnoredEntirely()
    {
        await using var app = await StartAsync();
        var echo = await GetAsync(
            app,
            ("X-Test-Peer", "198.51.100.9"),
            ("X-Forwarded-For", "203.0.113.7"),
            ("X-Forwarded-Proto", "https"),
            ("X-Forwarded-Host", "evil.example"),
            ("Forwarded", "for=1.2.3.4;proto=https"));

        Assert.Equal("198.51.100.9", echo.Ip);
        Assert.Equal("http", echo.Scheme);
        Assert.Equal("localhost", echo.Host);
        Assert.Equal(0, echo.Hops);
    }

    [Fact]
    public async Task Forwarded_Rfc7239_WithIPv6AndIPv4MappedPeer()
    {
        await using var app = await StartAsync(new Dictionary<string, string?> { ["AiEdge:ForwardedHeaders:TrustedProxies:0"] = "10.0.0.0/8" });
        var echo = await GetAsync(
            app,
            ("X-Test-Peer", "::ffff:10.0.0.9"),
            ("Forwarded", "for=\"[2001:db8:cafe::17]:4711\";proto=https;host=\"api.example.com:8443\", for=10.0.0.5"));

        Assert.Equal("2001:db8:cafe::17", echo.Ip);
        Assert.Equal(4711, echo.Port);
        Assert.Equal("https", echo.Scheme);
        Assert.Equal("api.example.com:8443", echo.Host);
        Assert.Equal(2, echo.Hops);
    }

    [Theory]
    [InlineData("10.0.0.0/8", "::ffff:10.0.0.9")]
    [InlineData("10.0.0.0/8", "10.0.0.9")]
    [InlineData("10.1.2.3/8", "::ffff:10.200.0.1")]
    [InlineData(" 10.0.0.0/8 ", "10.0.0.9")]
    [InlineData("10.0.0.9", "::ffff:10.0.0.9")]
    [InlineData("::ffff:10.0.0.0/104", "10.0.0.9")]
    [InlineData("fd00::1/8", "fd12::7")]
    [InlineData("fd00::7", "fd00::7")]
    public async Task TrustedProxyEntry_AsConfigured_TrustsPeer(string entry, string peer)
    {
        await using var app = await StartAsync(new Dictionary<string, string?> { ["AiEdge:ForwardedHeaders:TrustedProxies:0"] = entry });
        var echo = await GetAsync(app, ("X-Test-Peer", peer), ("X-Forwarded-For", "203.0.113.7"));
        Assert.Equal("203.0.113.7", echo.Ip);
        Assert.Equal(1, echo.Hops);
    }

    [Theory]
    [InlineData("10.0.0.9", "10.0.0.10")]
    [InlineData("10.0.0.0/8", "11.0.0.1")]
    [InlineData("10.0.0.0/8", "::ffff:11.0.0.1")]
    [InlineData("fd00::7", "fd00::8")]
    [InlineData("0.0.0.0/1", "::1")]
    public async Task TrustedProxyEntry_AsConfigured_DoesNotTrustOtherPeer(string entry, string peer)
    {
        await using var app = await StartAsync(new Dictionary<string, string?> { ["AiEdge:ForwardedHeaders:TrustedProxies:0"] = entry });
        var echo = await GetAsync(app, ("X-Test-Peer", peer), ("X-Forwarded-For", "203.0.113.7"));
        Assert.Equal(IPAddress.Parse(peer).ToString(), echo.Ip);
        Assert.Equal(0, echo.Hops);
    }

    [Theory]
    [InlineData("X-Forwarded-For", "not-an-ip")]
    [InlineData("X-Forwarded-For", "1.2.3.4:99999")]
    [InlineData("X-Forwarded-For", ",,,,")]
    [InlineData("Forwarded", "for=\"unterminated")]
    [InlineData("Forwarded", "for=1.2.3.4;for=5.6.7.8")]
    [InlineData("X-Forwarded-Host", "a/b")]
    [InlineData("X-Forwarded-Prefix", "//evil")]
    [InlineData("X-Forwarded-Proto", "gopher")]
    public async Task MalformedValues_NeverFail_AndAreNotApplied(string header, string value)
    {
        await using var app = await StartAsync();
        var echo = await GetAsync(app, ("X-Test-Peer", "127.0.0.1"), (header, value));
        Assert.Equal("127.0.0.1", echo.Ip);
        Assert.Equal("http", echo.Scheme);
        Assert.Equal("localhost", echo.Host);
        Assert.Equal(string.Empty, echo.PathBase);
    }

    [Fact]
    public async Task HugeHeaderWithThousandsOfHops_Ignored()
    {
        await using var app = await StartAsync();
        var huge = string.Join(",", Enumerable.Repeat("203.0.113.7", 3000));
        var echo = await GetAsync(app, ("X-Test-Peer", "127.0.0.1"), ("X-Forwarded-For", huge));
        Assert.Equal("127.0.0.1", echo.Ip);
    }

    [Fact]
    public async Task Kestrel_LoopbackPeer_AppliedAndStateReusedOnKeepAlive()
    {
        await using var app = await StartAsync(kestrel: true);
        var first = await GetAsync(app, ("X-Forwarded-For", "203.0.113.7"), ("X-Forwarded-Proto", "https"));
        var second = await GetAsync(app, ("X-Forwarded-For", "198.51.100.4"));
        var third = await GetAsync(app);

        Assert.Equal("203.0.113.7", first.Ip);
        Assert.Equal("https", first.Scheme);
        Assert.Equal("127.0.0.1", first.PeerIp);
        Assert.Equal("198.51.100.4", second.Ip);
        Assert.Equal("http", second.Scheme);
        Assert.Equal("127.0.0.1", third.Ip);
        Assert.Equal(0, third.Hops);
        Assert.Equal(first.FeatureId, second.FeatureId); // one state object per HTTP/1.1 connection
    }

    [Fact]
    public async Task Kestrel_LoopbackNotTrusted_HeadersIgnored()
    {
        await using var app = await StartAsync(new Dictionary<string, string?> { ["AiEdge:ForwardedHeaders:TrustedProxies:0"] = "10.0.0.0/8" }, kestrel: true);
        var echo = await GetAsync(app, ("X-Forwarded-For", "203.0.113.7"));
        Assert.Equal("127.0.0.1", echo.Ip);
    }

    [Fact]
    public async Task Disabled_PassesThrough()
    {
        await using var app = await StartAsync(configure: static o => o.Enabled = false);
        var echo = await GetAsync(app, ("X-Test-Peer", "127.0.0.1"), ("X-Forwarded-For", "203.0.113.7"));
        Assert.Equal("127.0.0.1", echo.Ip);
        Assert.Equal(-1, echo.Hops);
    }

    [Theory]
    [InlineData("AiEdge:ForwardedHeaders:TrustedProxies:0", "10.0.0.0/33", "AiEdge:ForwardedHeaders:TrustedProxies:0 must be an IP address or a CIDR range")]
    [InlineData("AiEdge:ForwardedHeaders:TrustedProxies:0", "proxy.internal", "AiEdge:ForwardedHeaders:TrustedProxies:0 must be an IP address or a CIDR range")]
    [InlineData("AiEdge:ForwardedHeaders:TrustedProxies:0", "::/129", "AiEdge:ForwardedHeaders:TrustedProxies:0 must be an IP address or a CIDR range")]
    [InlineData("AiEdge:ForwardedHeaders:TrustedProxies:0", "fe80::1%eth0", "AiEdge:ForwardedHeaders:TrustedProxies:0 must be an IP address or a CIDR range")]
    [InlineData("AiEdge:ForwardedHeaders:TrustedProxies:0", "10.0.0.0/ 8", "AiEdge:ForwardedHeaders:TrustedProxies:0 must be an IP address or a CIDR range")]
    [InlineData("AiEdge:ForwardedHeaders:TrustedProxies:0", "10/8", "AiEdge:ForwardedHeaders:TrustedProxies:0 must be an IP address or a CIDR range")]
    [InlineData("AiEdge:ForwardedHeaders:TrustedProxies:0", "[::1]", "AiEdge:ForwardedHeaders:TrustedProxies:0 must be an IP address or a CIDR range")]
    [InlineData("AiEdge:ForwardedHeaders:TrustedProxies:0", "0.0.0.0/0", "AiEdge:ForwardedHeaders:TrustedProxies trusts every address")]
    [InlineData("AiEdge:ForwardedHeaders:TrustedProxies:0", "::/0", "AiEdge:ForwardedHeaders:AllowAnyProxy")]
    [InlineData("AiEdge:ForwardedHeaders:ForwardLimit", "0", "AiEdge:ForwardedHeaders:ForwardLimit must be from 1 to 64")]
    [InlineData("AiEdge:ForwardedHeaders:MaxHeaderLength", "10", "AiEdge:ForwardedHeaders:MaxHeaderLength must be from 64 to 65536")]
    public async Task BadConfiguration_FailsAtStartup_NamingTheKey(string key, string value, string message)
    {
        await StartupAssert.FailsAsync(() => StartAsync(new Dictionary<string, string?> { [key] = value }), message);
    }

    [Fact]
    public async Task TrustAll_WithExplicitOptIn_Starts()
    {
        await using var app = await StartAsync(new Dictionary<string, string?>
        {
            ["AiEdge:ForwardedHeaders:TrustedProxies:0"] = "0.0.0.0/0",
            ["AiEdge:ForwardedHeaders:AllowAnyProxy"] = "true",
        });
        var echo = await GetAsync(app, ("X-Test-Peer", "198.51.100.9"), ("X-Forwarded-For", "203.0.113.7"));
        Assert.Equal("203.0.113.7", echo.Ip);
    }

    [Fact]
    public async Task HeadersOption_BoundFromConfiguration()
    {
        await using var app = await StartAsync(new Dictionary<string, string?> { ["AiEdge:ForwardedHeaders:Headers"] = "XForwardedFor" });
        var echo = await GetAsync(app, ("X-Test-Peer", "127.0.0.1"), ("X-Forwarded-For", "203.0.113.7"), ("X-Forwarded-Proto", "https"));
        Assert.Equal("203.0.113.7", echo.Ip);
        Assert.Equal("http", echo.Scheme);
    }
}
