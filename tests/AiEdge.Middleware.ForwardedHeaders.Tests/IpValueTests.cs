using System.Net;
using AiEdge.Middleware.ForwardedHeaders.Internal;

namespace AiEdge.Middleware.ForwardedHeaders.Tests;

public sealed class IpValueTests
{
    [Theory]
    [InlineData("192.0.2.1")]
    [InlineData("0.0.0.0")]
    [InlineData("255.255.255.255")]
    [InlineData("::1")]
    [InlineData("::")]
    [InlineData("2001:db8::1")]
    [InlineData("2001:db8:0:0:0:0:0:1")]
    [InlineData("1:2:3:4:5:6:7:8")]
    [InlineData("1::")]
    [InlineData("1:2:3:4:5:6:7::")]
    [InlineData("::ffff:192.0.2.1")]
    [InlineData("64:ff9b::192.0.2.33")]
    [InlineData("fe80::1:2")]
    public void TryParse_ValidAddress_MatchesIPAddressParse(string text)
    {
        Assert.True(IpValue.TryParse(text, out var value));
        Assert.True(IpValue.TryFrom(IPAddress.Parse(text), out var expected));
        Assert.Equal(expected, value);
    }

    [Theory]
    [InlineData("")]
    [InlineData("1.2.3")]
    [InlineData("1.2.3.4.5")]
    [InlineData("256.1.1.1")]
    [InlineData("01.2.3.4")]
    [InlineData("1.2.3.4 ")]
    [InlineData("0x7f.0.0.1")]
    [InlineData("1")]
    [InlineData(":::")]
    [InlineData("1:2:3:4:5:6:7:8:9")]
    [InlineData("1::2::3")]
    [InlineData("12345::")]
    [InlineData("fe80::1%eth0")]
    [InlineData("1:2:3:4:5:6:7:")]
    [InlineData(":1::")]
    [InlineData("::1.2.3")]
    [InlineData("g::1")]
    public void TryParse_Malformed_Fails(string text)
        => Assert.False(IpValue.TryParse(text, out _));

    [Fact]
    public void TryParse_MappedIPv6_NormalizesToIPv4()
    {
        Assert.True(IpValue.TryParse("::ffff:10.1.2.3", out var mapped));
        Assert.True(IpValue.TryParse("10.1.2.3", out var plain));
        Assert.Equal(plain, mapped);
        Assert.False(mapped.IsIPv6);
        Assert.Equal(IPAddress.Parse("10.1.2.3"), mapped.ToIPAddress());
    }

    [Theory]
    [InlineData("10.0.0.0/8", "10.255.1.2", true)]
    [InlineData("10.0.0.0/8", "11.0.0.1", false)]
    [InlineData("10.1.2.3/8", "10.9.9.9", true)] // low bits ignored, as NGINX does
    [InlineData("192.0.2.7", "192.0.2.7", true)]
    [InlineData("192.0.2.7", "192.0.2.8", false)]
    [InlineData("127.0.0.1/32", "::ffff:127.0.0.1", true)]
    [InlineData("::ffff:10.0.0.0/104", "10.20.30.40", true)]
    [InlineData("::1/128", "::1", true)]
    [InlineData("::1/128", "127.0.0.1", false)]
    [InlineData("fd00::/8", "fd12:3456::1", true)]
    [InlineData("fd00::/8", "fe80::1", false)]
    [InlineData("::/0", "192.0.2.1", true)]
    [InlineData("0.0.0.0/0", "2001:db8::1", false)]
    public void Network_Contains(string cidr, string address, bool expected)
    {
        Assert.True(IpNetwork.TryParse(cidr, out var network));
        Assert.True(IpValue.TryParse(address, out var value));
        Assert.Equal(expected, network.Contains(value));
    }

    [Theory]
    [InlineData("10.0.0.0/33")]
    [InlineData("::/129")]
    [InlineData("10.0.0.0/")]
    [InlineData("10.0.0.0/-1")]
    [InlineData("10.0.0.0/8/8")]
    [InlineData("example.com")]
    [InlineData("10.0.0.0/ 8")]
    public void Network_Malformed_Fails(string cidr) => Assert.False(IpNetwork.TryParse(cidr, out _));

    [Theory]
    [InlineData(true, "0.0.0.0/0")]
    [InlineData(true, "::/0")]
    [InlineData(true, "0.0.0.0/1", "128.0.0.0/1")]
    [InlineData(true, "::ffff:0.0.0.0/96")]
    [InlineData(true, "::/1", "8000::/1")]
    [InlineData(false, "0.0.0.0/1")]
    [InlineData(false, "10.0.0.0/8", "::1/128")]
    [InlineData(false, "127.0.0.1/32", "::1/128")]
    public void CoversEverything_DetectsTrustAll(bool expected, params string[] cidrs)
    {
        var networks = new List<IpNetwork>();
        foreach (var cidr in cidrs)
        {
            Assert.True(IpNetwork.TryParse(cidr, out var network));
            networks.Add(network);
        }

        Assert.Equal(expected, IpNetwork.CoversEverything(networks));
    }
}
