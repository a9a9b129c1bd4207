using System.Net;
using AiEdge.Middleware.RateLimiting.Internal;

namespace AiEdge.Middleware.RateLimiting.Tests;

public sealed class PartitionKeyTests
{
    [Theory]
    [InlineData(64)]
    [InlineData(48)]
    [InlineData(0)]
    [InlineData(128)]
    public void FromAddress_Ipv4MappedIpv6_KeepsOneBucketPerIpv4Client(int prefixLength)
    {
        var one = PartitionKey.FromAddress(IPAddress.Parse("::ffff:10.0.0.1"), prefixLength);
        var two = PartitionKey.FromAddress(IPAddress.Parse("::ffff:10.0.0.2"), prefixLength);
        var plain = PartitionKey.FromAddress(IPAddress.Parse("10.0.0.1"), prefixLength);

        Assert.NotEqual(one, two);
        Assert.Equal(plain, one);
        Assert.Equal(plain.GetHashCode(), one.GetHashCode());
        Assert.Equal("ip:10.0.0.1", one.ToString());
        Assert.Equal("ip:10.0.0.2", two.ToString());
    }

    [Fact]
    public void FromAddress_MappedToIpv6ByTheRuntime_IsThePlainIpv4Key()
    {
        var dualStack = IPAddress.Parse("10.1.2.3").MapToIPv6();

        Assert.True(dualStack.IsIPv4MappedToIPv6);
        Assert.Equal(PartitionKey.FromAddress(IPAddress.Parse("10.1.2.3"), 64), PartitionKey.FromAddress(dualStack, 64));
    }

    [Fact]
    public void FromAddress_Ipv6_GroupsByThePrefix()
    {
        Assert.Equal(
            PartitionKey.FromAddress(IPAddress.Parse("2001:db8:1:2::1"), 64),
            PartitionKey.FromAddress(IPAddress.Parse("2001:db8:1:2:ffff::9"), 64));
        Assert.NotEqual(
            PartitionKey.FromAddress(IPAddress.Parse("2001:db8:1:2::1"), 64),
            PartitionKey.FromAddress(IPAddress.Parse("2001:db8:1:3::1"), 64));
    }
}
