using System.Globalization;
using System.Net;

namespace AiEdge.Middleware.ForwardedHeaders.Internal;

/// <summary>
/// A trusted proxy range: a <see cref="IPNetwork"/> plus its prefix and mask as bits, so that an <see cref="IpValue"/>
/// read from a header is matched without creating an <see cref="IPAddress"/> per hop.
/// </summary>
/// <remarks>
/// <see cref="IPNetwork.Contains"/> never matches across address families; a dual-stack socket reports an IPv4
/// client as <c>::ffff:a.b.c.d</c>. <see cref="IpValue"/> normalizes mapped addresses to IPv4, so an IPv4 range
/// matches them, and an IPv6 range matches IPv4 addresses through their mapped form (<c>::/0</c> trusts both).
/// </remarks>
internal readonly struct TrustedNetwork
{
    private static readonly UInt128 MappedFirst = (UInt128)0xFFFF << 32;

    private readonly UInt128 _prefix;
    private readonly UInt128 _mask;
    private readonly bool _isIPv6;

    public TrustedNetwork(IPNetwork network)
    {
        Network = network;
        _isIPv6 = network.BaseAddress.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6;
        _ = IpValue.TryFrom(network.BaseAddress, out var address);
        var width = _isIPv6 ? 128 : 32;
        var all = _isIPv6 ? UInt128.MaxValue : uint.MaxValue;
        _mask = network.PrefixLength == 0 ? UInt128.Zero : (all << (width - network.PrefixLength)) & all;
        _prefix = (_isIPv6 ? address.V6Bits : address.Bits) & _mask;
    }

    /// <summary>The range as the framework type.</summary>
    public IPNetwork Network { get; }

    /// <summary>The first address of the range (IPv6 bits, or IPv4 in the low 32 bits).</summary>
    private UInt128 First => _prefix;

    /// <summary>The last address of the range.</summary>
    private UInt128 Last => _prefix | (~_mask & (_isIPv6 ? UInt128.MaxValue : uint.MaxValue));

    public bool Contains(in IpValue address)
        => _isIPv6 ? (address.V6Bits & _mask) == _prefix : !address.IsIPv6 && (address.Bits & _mask) == _prefix;

    /// <summary>
    /// Parses a configured entry, <c>address</c> or <c>address/length</c>, into a <see cref="IPNetwork"/>. The address
    /// syntax is strict (<see cref="IpValue.TryParse"/>: dotted-quad IPv4 or IPv6, no zone id, brackets or port);
    /// leading and trailing whitespace is ignored; a bare address is a /32 (IPv4) or /128 (IPv6). Bits beyond the
    /// length are ignored, as NGINX does (<c>10.1.2.3/8</c> is <c>10.0.0.0/8</c>), where
    /// <see cref="IPNetwork.TryParse(ReadOnlySpan{char}, out IPNetwork)"/> would refuse the entry. An IPv4-mapped
    /// address counts its length in IPv6 bits and becomes an IPv4 range from /96 on (<c>::ffff:10.0.0.0/104</c> is
    /// <c>10.0.0.0/8</c>).
    /// </summary>
    public static bool TryParse(ReadOnlySpan<char> text, out IPNetwork network)
    {
        network = default;
        text = text.Trim();
        var slash = text.IndexOf('/');
        var addressText = slash < 0 ? text : text[..slash];
        if (!IpValue.TryParse(addressText, out var address))
        {
            return false;
        }

        // An IPv4-mapped address was normalized to IPv4: its length counts in IPv6 bits.
        var mapped = !address.IsIPv6 && addressText.Contains(':');
        var isIPv6 = address.IsIPv6;
        var bits = address.Bits;
        int length;
        if (slash < 0)
        {
            length = isIPv6 ? 128 : 32;
        }
        else
        {
            var lengthText = text[(slash + 1)..];
            if (lengthText.IsEmpty || lengthText.Length > 3 || !int.TryParse(lengthText, NumberStyles.None, CultureInfo.InvariantCulture, out length))
            {
                return false;
            }

            if (mapped && length <= 128)
            {
                if (length < 96)
                {
                    isIPv6 = true;
                    bits = address.V6Bits;
                }
                else
                {
                    length -= 96;
                }
            }
            else if (length > (isIPv6 ? 128 : 32))
            {
                return false;
            }
        }

        var width = isIPv6 ? 128 : 32;
        var all = isIPv6 ? UInt128.MaxValue : uint.MaxValue;
        var mask = length == 0 ? UInt128.Zero : (all << (width - length)) & all;
        network = new IPNetwork(new IpValue(bits & mask, isIPv6).ToIPAddress(), length);
        return true;
    }

    /// <summary>Whether <paramref name="networks"/> together cover every IPv4 or every IPv6 address.</summary>
    public static bool CoversEverything(IReadOnlyList<IPNetwork> networks)
    {
        var v4 = new List<(UInt128 First, UInt128 Last)>();
        var v6 = new List<(UInt128 First, UInt128 Last)>();
        foreach (var entry in networks)
        {
            var network = new TrustedNetwork(entry);
            if (network._isIPv6)
            {
                v6.Add((network.First, network.Last));
                var mappedLast = MappedFirst | uint.MaxValue;
                if (network.First <= MappedFirst && network.Last >= mappedLast)
                {
                    v4.Add((0, uint.MaxValue));
                }
            }
            else
            {
                v4.Add((network.First, network.Last));
            }
        }

        return Covers(v4, uint.MaxValue) || Covers(v6, UInt128.MaxValue);
    }

    private static bool Covers(List<(UInt128 First, UInt128 Last)> ranges, UInt128 max)
    {
        ranges.Sort(static (a, b) => a.First.CompareTo(b.First));
        UInt128 next = 0;
        foreach (var (first, last) in ranges)
        {
            if (first > next)
            {
                return false;
            }

            if (last >= next)
            {
                if (last == max)
                {
                    return true;
                }

                next = last + 1;
            }
        }

        return false;
    }
}
