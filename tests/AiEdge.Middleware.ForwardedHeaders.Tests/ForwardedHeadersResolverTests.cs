using AiEdge.Middleware.ForwardedHeaders.Internal;
using static AiEdge.Middleware.ForwardedHeaders.Tests.ResolverFactory;

namespace AiEdge.Middleware.ForwardedHeaders.Tests;

public sealed class ForwardedHeadersResolverTests
{
    private const string Xff = "X-Forwarded-For";

    [Theory]
    // header, expected client (null: peer kept), applied hops, stop
    [InlineData("203.0.113.7", "203.0.113.7", 1, "Untrusted")]
    [InlineData("203.0.113.7, 10.0.0.2", "203.0.113.7", 2, "Untrusted")]
    [InlineData("198.51.100.1, 203.0.113.7, 10.0.0.2", "203.0.113.7", 2, "Untrusted")]
    [InlineData("10.0.0.3, 10.0.0.2", "10.0.0.3", 2, "Complete")]
    [InlineData("garbage, 203.0.113.7", "203.0.113.7", 1, "Untrusted")]
    [InlineData("203.0.113.7, garbage", null, 0, "Unparsable")]
    [InlineData("203.0.113.7, unknown, 10.0.0.2", "10.0.0.2", 1, "Unparsable")]
    [InlineData("203.0.113.7,,10.0.0.2", "10.0.0.2", 1, "Unparsable")]
    [InlineData("[2001:db8::7]:4711, ::ffff:10.0.0.2", "2001:db8::7", 2, "Untrusted")]
    [InlineData("203.0.113.7:70000", null, 0, "Unparsable")]
    public void XForwardedFor_WalksFromTheRightSkippingTrustedHops(string header, string? client, int hops, string stop)
    {
        var resolver = Create(o => o.TrustedProxies = ["127.0.0.1/32", "10.0.0.0/8"]);
        var result = Resolve(resolver, "127.0.0.1", (Xff, header));
        Assert.Equal(hops, result.AppliedHops);
        Assert.Equal(stop, result.Stop.ToString());
        if (client is not null)
        {
            Assert.Equal(Ip(client), result.Client);
        }
    }

    [Fact]
    public void XForwardedFor_SeveralHeaderLines_ReadAsOneList()
    {
        var resolver = Create(o => o.TrustedProxies = ["127.0.0.1/32", "10.0.0.0/8"]);
        var result = Resolve(resolver, "127.0.0.1", (Xff, "198.51.100.9, 203.0.113.7"), (Xff, "10.0.0.5"));
        Assert.Equal(Ip("203.0.113.7"), result.Client);
        Assert.Equal(2, result.AppliedHops);
    }

    [Fact]
    public void RecursiveSearchOff_AppliesOnlyTheRightmostHop()
    {
        var resolver = Create(o =>
        {
            o.TrustedProxies = ["127.0.0.1/32", "10.0.0.0/8"];
            o.RecursiveSearch = false;
        });
        var result = Resolve(resolver, "127.0.0.1", (Xff, "203.0.113.7, 10.0.0.2"));
        Assert.Equal(Ip("10.0.0.2"), result.Client);
        Assert.Equal(1, result.AppliedHops);
    }

    [Fact]
    public void ForwardLimit_StopsTheWalk()
    {
        var resolver = Create(o =>
        {
            o.TrustedProxies = ["127.0.0.1/32", "10.0.0.0/8"];
            o.ForwardLimit = 2;
        });
        var result = Resolve(resolver, "127.0.0.1", (Xff, "203.0.113.7, 10.0.0.3, 10.0.0.2"));
        Assert.Equal(Ip("10.0.0.3"), result.Client);
        Assert.Equal(2, result.AppliedHops);
        Assert.Equal(ForwardedStop.Limit, result.Stop);
    }

    [Fact]
    public void ThousandsOfHops_StopAtTheLimitOrLength()
    {
        var resolver = Create(o => o.TrustedProxies = ["127.0.0.1/32", "10.0.0.0/8"]);
        var hops = string.Join(", ", Enumerable.Repeat("10.0.0.1", 5000));
        var result = Resolve(resolver, "127.0.0.1", (Xff, hops));
        Assert.Equal(ForwardedStop.TooLong, result.Stop);
        Assert.Equal(0, result.AppliedHops);

        var many = string.Join(",", Enumerable.Repeat("10.0.0.1", 500));
        var limited = Resolve(resolver, "127.0.0.1", (Xff, many));
        Assert.Equal(ForwardedStop.Limit, limited.Stop);
        Assert.Equal(10, limited.AppliedHops);
    }

    [Fact]
    public void XRealIp_UsedWhenNoForwardedFor()
    {
        var resolver = Create();
        var result = Resolve(resolver, "127.0.0.1", ("X-Real-IP", "203.0.113.7"));
        Assert.Equal(Ip("203.0.113.7"), result.Client);
        Assert.Equal(1, result.AppliedHops);

        var both = Resolve(resolver, "127.0.0.1", ("X-Real-IP", "203.0.113.7"), (Xff, "198.51.100.1"));
        Assert.Equal(Ip("198.51.100.1"), both.Client);
    }

    [Theory]
    [InlineData("https", "https")]
    [InlineData("HTTPS", "https")]
    [InlineData("http", "http")]
    [InlineData("ftp", null)]
    [InlineData("javascript", null)]
    public void XForwardedProto_OnlyHttpOrHttps(string header, string? expected)
    {
        var result = Resolve(Create(), "127.0.0.1", (Xff, "203.0.113.7"), ("X-Forwarded-Proto", header));
        Assert.Equal(expected, result.Scheme);
    }

    [Fact]
    public void ProtoAndHost_AlignWithTheAppliedHop()
    {
        var resolver = Create(o => o.TrustedProxies = ["127.0.0.1/32", "10.0.0.0/8"]);
        var result = Resolve(
            resolver,
            "127.0.0.1",
            (Xff, "203.0.113.7, 10.0.0.2"),
            ("X-Forwarded-Proto", "https, http"),
            ("X-Forwarded-Host", "api.example.com, internal:8080"));
        Assert.Equal("https", result.Scheme);
        Assert.Equal("api.example.com", result.Host);

        var single = Resolve(resolver, "127.0.0.1", (Xff, "203.0.113.7, 10.0.0.2"), ("X-Forwarded-Proto", "https"));
        Assert.Equal("https", single.Scheme);
    }

    [Theory]
    [InlineData("api.example.com", "api.example.com")]
    [InlineData("api.example.com:8443", "api.example.com:8443")]
    [InlineData("[2001:db8::1]:443", "[2001:db8::1]:443")]
    [InlineData("evil.com/path", null)]
    [InlineData("a b", null)]
    [InlineData("", null)]
    public void XForwardedHost_Validated(string header, string? expected)
        => Assert.Equal(expected, Resolve(Create(), "127.0.0.1", ("X-Forwarded-Host", header)).Host);

    [Theory]
    [InlineData("/api", "/api")]
    [InlineData("/api/v1/", "/api/v1")]
    [InlineData("/", "")]
    [InlineData("api", null)]
    [InlineData("//evil.com", null)]
    [InlineData("/a?b", null)]
    [InlineData("/a%2fb", null)]
    public void XForwardedPrefix_Validated(string header, string? expected)
        => Assert.Equal(expected, Resolve(Create(), "127.0.0.1", ("X-Forwarded-Prefix", header)).PathBase);

    [Theory]
    // header, client, hops, scheme, host, stop
    [InlineData("for=192.0.2.60;proto=https;host=api.example.com", "192.0.2.60", 1, "https", "api.example.com", "Untrusted")]
    [InlineData("for=\"[2001:db8:cafe::17]:4711\";proto=http", "2001:db8:cafe::17", 1, "http", null, "Untrusted")]
    [InlineData("for=198.51.100.1, for=203.0.113.7;proto=https, for=10.0.0.2;proto=http", "203.0.113.7", 2, "https", null, "Untrusted")]
    [InlineData("for=203.0.113.7, for=_hidden", null, 0, null, null, "Unparsable")]
    [InlineData("for=203.0.113.7, for=unknown", null, 0, null, null, "Unparsable")]
    [InlineData("for=_hidden, for=10.0.0.2", "10.0.0.2", 1, null, null, "Unparsable")]
    [InlineData("for=\"203.0.113.7, for=10.0.0.2", null, 0, null, null, "Unparsable")]
    [InlineData("ext=\"x,y\";for=203.0.113.7", "203.0.113.7", 1, null, null, "Untrusted")]
    [InlineData("proto=https", null, 0, null, null, "Unparsable")]
    [InlineData("for=192.0.2.60;for=192.0.2.61", null, 0, null, null, "Unparsable")]
    public void Forwarded_Rfc7239(string header, string? client, int hops, string? scheme, string? host, string stop)
    {
        var resolver = Create(o => o.TrustedProxies = ["127.0.0.1/32", "10.0.0.0/8"]);
        var result = Resolve(resolver, "127.0.0.1", ("Forwarded", header), (Xff, "1.1.1.1"));
        Assert.Equal(hops, result.AppliedHops);
        Assert.Equal(stop, result.Stop.ToString());
        Assert.Equal(scheme, result.Scheme);
        Assert.Equal(host, result.Host);
        if (client is not null)
        {
            Assert.Equal(Ip(client), result.Client);
        }
    }

    [Fact]
    public void Forwarded_Disabled_FallsBackToXForwardedFor()
    {
        var resolver = Create(o => o.Headers = ForwardedHeaderSources.XForwardedFor);
        var result = Resolve(resolver, "127.0.0.1", ("Forwarded", "for=192.0.2.60"), (Xff, "203.0.113.7"), ("X-Forwarded-Proto", "https"));
        Assert.Equal(Ip("203.0.113.7"), result.Client);
        Assert.Null(result.Scheme);
    }

    [Fact]
    public void Forwarded_ManyElements_LimitApplies()
    {
        var resolver = Create(o =>
        {
            o.TrustedProxies = ["127.0.0.1/32", "10.0.0.0/8"];
            o.ForwardLimit = 3;
        });
        var header = string.Join(", ", Enumerable.Repeat("for=10.1.1.1", 50));
        var result = Resolve(resolver, "127.0.0.1", ("Forwarded", header));
        Assert.Equal(3, result.AppliedHops);
        Assert.Equal(ForwardedStop.Limit, result.Stop);
    }
}
