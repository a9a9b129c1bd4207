using System.Net;
using AiEdge.Middleware.ForwardedHeaders.Internal;
using FsCheck;
using FsCheck.Fluent;

namespace AiEdge.Middleware.ForwardedHeaders.Tests;

public sealed class TrustedNetworkTests
{
    [Theory]
    [InlineData("10.0.0.0/8", "10.0.0.0/8")]
    [InlineData("10.1.2.3/8", "10.0.0.0/8")] // low bits ignored, as NGINX does; IPNetwork.TryParse would refuse it
    [InlineData("192.0.2.7", "192.0.2.7/32")]
    [InlineData("127.0.0.1", "127.0.0.1/32")]
    [InlineData("::1", "::1/128")]
    [InlineData("2001:db8::1/32", "2001:db8::/32")]
    [InlineData(" \t10.0.0.0/8 ", "10.0.0.0/8")]
    [InlineData("::ffff:10.0.0.0/104", "10.0.0.0/8")]
    [InlineData("::ffff:10.0.0.1", "10.0.0.1/32")]
    [InlineData("::ffff:0.0.0.0/96", "0.0.0.0/0")]
    [InlineData("::ffff:0.0.0.0/80", "::/80")]
    [InlineData("0.0.0.0/0", "0.0.0.0/0")]
    [InlineData("::/0", "::/0")]
    public void TryParse_Accepted_GivesCanonicalIPNetwork(string entry, string expected)
    {
        Assert.True(TrustedNetwork.TryParse(entry, out var network));
        Assert.Equal(IPNetwork.Parse(expected), network);
    }

    [Theory]
    [InlineData("10.0.0.0/33")]
    [InlineData("::/129")]
    [InlineData("::ffff:10.0.0.0/129")]
    [InlineData("10.0.0.0/")]
    [InlineData("10.0.0.0/-1")]
    [InlineData("10.0.0.0/+8")]
    [InlineData("10.0.0.0/0008")]
    [InlineData("10.0.0.0/8/8")]
    [InlineData("example.com")]
    [InlineData("10.0.0.0/ 8")]
    [InlineData("10.0.0.0 /8")]
    [InlineData("fe80::1%eth0")]
    [InlineData("fe80::1%eth0/64")]
    [InlineData("[::1]")]
    [InlineData("[::1]/128")]
    [InlineData("127.0.0.1:80")]
    [InlineData("010.0.0.0/8")]
    [InlineData("10/8")]
    [InlineData("0x0a.0.0.0/8")]
    [InlineData("")]
    [InlineData("   ")]
    public void TryParse_Malformed_Fails(string entry) => Assert.False(TrustedNetwork.TryParse(entry, out _));

    [Theory]
    [InlineData("10.0.0.0/8", "10.255.1.2", true)]
    [InlineData("10.0.0.0/8", "11.0.0.1", false)]
    [InlineData("10.1.2.3/8", "10.9.9.9", true)]
    [InlineData("10.0.0.0/8", "::ffff:10.0.0.1", true)] // a dual-stack socket's view of an IPv4 peer
    [InlineData("192.0.2.7", "192.0.2.7", true)]
    [InlineData("192.0.2.7", "192.0.2.8", false)]
    [InlineData("127.0.0.1", "::ffff:127.0.0.1", true)]
    [InlineData("127.0.0.1/32", "::ffff:127.0.0.1", true)]
    [InlineData("::ffff:10.0.0.0/104", "10.20.30.40", true)]
    [InlineData("::ffff:0.0.0.0/96", "192.0.2.1", true)]
    [InlineData("::1/128", "::1", true)]
    [InlineData("::1/128", "127.0.0.1", false)]
    [InlineData("::1", "::2", false)]
    [InlineData("fd00::/8", "fd12:3456::1", true)]
    [InlineData("fd00::/8", "fe80::1", false)]
    [InlineData("::/0", "192.0.2.1", true)]
    [InlineData("::/0", "::ffff:192.0.2.1", true)]
    [InlineData("0.0.0.0/0", "2001:db8::1", false)]
    public void Contains_MatchesAsBefore(string entry, string address, bool expected)
    {
        Assert.True(TrustedNetwork.TryParse(entry, out var network));
        Assert.True(IpValue.TryParse(address, out var value));
        Assert.Equal(expected, new TrustedNetwork(network).Contains(value));
    }

    [Fact]
    public void Contains_WithinOneFamily_AgreesWithIPNetworkContains()
    {
        var v4 = Prop.ForAll(ArbMap.Default.ArbFor<uint>(), ArbMap.Default.ArbFor<uint>(), Gen.Choose(0, 32).ToArbitrary(), static (baseBits, addressBits, length) =>
        {
            var network = Parse(new IPAddress(BitConverter.GetBytes(baseBits)), length);
            var address = new IPAddress(BitConverter.GetBytes(addressBits));
            return Agrees(network, address);
        });
        Check.QuickThrowOnFailure(v4);

        // The address differs from the base in one bit (or none): contained exactly when that bit is past the prefix.
        var bytes16 = Gen.ArrayOf(ArbMap.Default.GeneratorFor<byte>(), 16).ToArbitrary();
        var v6 = Prop.ForAll(bytes16, Gen.Choose(-1, 127).ToArbitrary(), Gen.Choose(0, 128).ToArbitrary(), static (baseBytes, flip, length) =>
        {
            var addressBytes = (byte[])baseBytes.Clone();
            if (flip >= 0)
            {
                addressBytes[flip / 8] ^= (byte)(0x80 >> (flip % 8));
            }

            var network = Parse(new IPAddress(baseBytes), length);
            var address = new IPAddress(addressBytes);

            // Mapped addresses match across families on purpose; IPNetwork.Contains does not.
            return address.IsIPv4MappedToIPv6 || network.BaseAddress.IsIPv4MappedToIPv6 || Agrees(network, address);
        });
        Check.QuickThrowOnFailure(v6);

        static IPNetwork Parse(IPAddress address, int length)
        {
            Assert.True(TrustedNetwork.TryParse($"{address}/{length}", out var network));
            return network;
        }

        static bool Agrees(IPNetwork network, IPAddress address)
            => IpValue.TryFrom(address, out var value) && new TrustedNetwork(network).Contains(value) == network.Contains(address);
    }

    [Theory]
    [InlineData(true, "0.0.0.0/0")]
    [InlineData(true, "::/0")]
    [InlineData(true, "0.0.0.0/1", "128.0.0.0/1")]
    [InlineData(true, "::ffff:0.0.0.0/96")]
    [InlineData(true, "::ffff:0.0.0.0/80")]
    [InlineData(true, "::/1", "8000::/1")]
    [InlineData(false, "0.0.0.0/1")]
    [InlineData(false, "10.0.0.0/8", "::1/128")]
    [InlineData(false, "127.0.0.1/32", "::1/128")]
    public void CoversEverything_DetectsTrustAll(bool expected, params string[] entries)
    {
        var networks = new List<IPNetwork>();
        foreach (var entry in entries)
        {
            Assert.True(TrustedNetwork.TryParse(entry, out var network));
            networks.Add(network);
        }

        Assert.Equal(expected, TrustedNetwork.CoversEverything(networks));
    }

    [Fact]
    public void Resolver_NoEntries_TrustsLoopbackNetworks()
    {
        var resolver = ResolverFactory.Create();
        Assert.Equal([IPNetwork.Parse("127.0.0.1/32"), IPNetwork.Parse("::1/128")], resolver.TrustedNetworks);
    }
}
