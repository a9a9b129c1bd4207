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
}
