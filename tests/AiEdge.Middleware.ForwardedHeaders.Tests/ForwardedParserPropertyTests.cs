using System.Net;
using AiEdge.Middleware.ForwardedHeaders.Internal;
using FsCheck;
using FsCheck.Fluent;
using Microsoft.AspNetCore.Http;

namespace AiEdge.Middleware.ForwardedHeaders.Tests;

/// <summary>Properties of the parsers: they never throw, and agree with simple reference models.</summary>
public sealed class ForwardedParserPropertyTests
{
    private static readonly Config Config = Config.QuickThrowOnFailure.WithMaxTest(500);

    private static readonly char[] Alphabet = "0123456789abcdefABCDEF:.[]_,;=\" \t/%-unkowfrphst\\".ToCharArray();

    /// <summary>Strings made mostly of the characters the parsers care about, so the properties reach deep branches.</summary>
    private static Arbitrary<string> HeaderLike()
        => Gen.Elements(Alphabet).ArrayOf().Select(static chars => new string(chars)).ToArbitrary();

    private static void Verify(Property property) => Check.One(Config, property);

    private static Arbitrary<string> AnyString() => ArbMap.Default.ArbFor<string>().Filter(static s => s is not null);

    [Fact]
    public void IpParse_NeverThrows_AndAgreesWithIPAddressWhenItAccepts()
    {
        static bool Property(string text)
        {
            if (!IpValue.TryParse(text, out var value))
            {
                return true;
            }

            return IPAddress.TryParse(text, out var reference) && IpValue.TryFrom(reference, out var expected) && expected == value;
        }

        Verify(Prop.ForAll(HeaderLike(), Property));
        Verify(Prop.ForAll(AnyString(), Property));
    }

    [Fact]
    public void IpParse_AcceptsEveryFormattedAddress()
    {
        var v4 = Gen.ArrayOf(ArbMap.Default.GeneratorFor<byte>(), 4);
        var v6 = Gen.ArrayOf(ArbMap.Default.GeneratorFor<byte>(), 16);
        var addresses = Gen.OneOf(v4, v6).Select(static bytes => new IPAddress(bytes)).ToArbitrary();
        Verify(Prop.ForAll(addresses, static address =>
            IpValue.TryParse(address.ToString(), out var value)
            && IpValue.TryFrom(address, out var expected)
            && expected == value
            && IpValue.TryFrom(value.ToIPAddress(), out var roundTrip)
            && roundTrip == value));
    }

    [Fact]
    public void NodeAndElementParsers_NeverThrow()
    {
        static bool Property(string text)
        {
            _ = ForwardedNode.Parse(text, out _, out var port);
            _ = ForwardedElement.TryParse(text, out _, out _, out _);
            return port is >= -1 and <= 65535;
        }

        Verify(Prop.ForAll(HeaderLike(), Property));
        Verify(Prop.ForAll(AnyString(), Property));
    }

    [Fact]
    public void Resolver_NeverThrows_OnArbitraryHeaders()
    {
        var resolver = ResolverFactory.Create(static o => o.TrustedProxies = ["127.0.0.1/32", "10.0.0.0/8", "::1/128"]);
        var peer = ResolverFactory.Ip("127.0.0.1");
        Verify(Prop.ForAll(HeaderLike(), HeaderLike(), AnyString(), (forwarded, xff, other) =>
        {
            var headers = new HeaderDictionary
            {
                ["Forwarded"] = forwarded,
                ["X-Forwarded-For"] = xff,
                ["X-Forwarded-Proto"] = other,
                ["X-Forwarded-Host"] = xff,
                ["X-Forwarded-Prefix"] = other,
            };
            resolver.Resolve(peer, headers, out var withForwarded);
            headers.Remove("Forwarded");
            resolver.Resolve(peer, headers, out var withXff);
            return withForwarded.AppliedHops is >= 0 and <= 10 && withXff.AppliedHops is >= 0 and <= 10;
        }));
    }

    /// <summary>
    /// The resolver agrees with a reference model written the obvious way (split, reverse, walk) on lists of
    /// addresses from a small pool, some trusted, some not, some garbage.
    /// </summary>
    [Fact]
    public void Resolver_AgreesWithReferenceModel()
    {
        string[] pool = ["10.0.0.1", "10.9.8.7", "127.0.0.1", "203.0.113.7", "198.51.100.20", "2001:db8::5", "[2001:db8::6]:443", "::ffff:10.1.1.1", "garbage", "unknown", "_hidden", "1.2.3.4:99999"];
        var lists = Gen.Elements(pool).ListOf().Where(static l => l.Count > 0).ToArbitrary();
        var limits = Gen.Choose(1, 6).ToArbitrary();
        var recursive = ArbMap.Default.ArbFor<bool>();
        Verify(Prop.ForAll(lists, limits, recursive, (hops, limit, recurse) =>
        {
            var resolver = ResolverFactory.Create(o =>
            {
                o.TrustedProxies = ["127.0.0.1/32", "10.0.0.0/8"];
                o.ForwardLimit = limit;
                o.RecursiveSearch = recurse;
            });
            var header = string.Join(", ", hops);
            var actual = ResolverFactory.Resolve(resolver, "127.0.0.1", ("X-Forwarded-For", header));
            var (client, applied) = Reference(hops, limit, recurse);
            return actual.AppliedHops == applied
                && (applied == 0 || (IpValue.TryFrom(client, out var expected) && expected == actual.Client));
        }));
    }

    private static (IPAddress? Client, int Applied) Reference(IReadOnlyList<string> hops, int limit, bool recursive)
    {
        var trusted = new[] { IPNetwork.Parse("127.0.0.1/32"), IPNetwork.Parse("10.0.0.0/8") };
        IPAddress? client = null;
        var applied = 0;
        foreach (var hop in hops.Reverse())
        {
            if (applied == limit)
            {
                break;
            }

            var text = hop.Trim();
            if (text.StartsWith('[') || (text.Count(static c => c == ':') == 1))
            {
                // Strip a port the way the hop syntax allows ([v6]:port or v4:port).
                if (!IPEndPoint.TryParse(text, out var endpoint))
                {
                    break;
                }

                text = endpoint.Address.ToString();
            }

            if (!text.All(static c => char.IsAsciiHexDigit(c) || c is '.' or ':') || !IPAddress.TryParse(text, out var address))
            {
                break;
            }

            if (address.IsIPv4MappedToIPv6)
            {
                address = address.MapToIPv4();
            }

            client = address;
            applied++;
            if (!recursive || !trusted.Any(n => n.Contains(address)))
            {
                break;
            }
        }

        return (client, applied);
    }
}
