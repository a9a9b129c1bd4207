namespace AiEdge.Middleware.ForwardedHeaders.Internal;

/// <summary>An IPv4 or IPv6 CIDR range. IPv4 ranges match IPv4-mapped IPv6 addresses; IPv6 ranges match IPv4 addresses through their mapped form.</summary>
internal readonly struct IpNetwork
{
    private IpNetwork(UInt128 prefix, UInt128 mask, int length, bool isIPv6)
    {
        Prefix = prefix;
        Mask = mask;
        Length = length;
        IsIPv6 = isIPv6;
    }

    public UInt128 Prefix { get; }

    public UInt128 Mask { get; }

    public int Length { get; }

    public bool IsIPv6 { get; }

    /// <summary>The first address of the range (as IPv6 bits when <see cref="IsIPv6"/>, else IPv4 in the low bits).</summary>
    public UInt128 First => Prefix;

    /// <summary>The last address of the range.</summary>
    public UInt128 Last => Prefix | (~Mask & (IsIPv6 ? UInt128.MaxValue : uint.MaxValue));

    /// <summary>Parses <c>address</c> or <c>address/length</c>; bits beyond the length are ignored, as NGINX does.</summary>
    public static bool TryParse(ReadOnlySpan<char> text, out IpNetwork network)
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
        int length;
        if (slash < 0)
        {
            length = address.IsIPv6 ? 128 : 32;
        }
        else
        {
            var lengthText = text[(slash + 1)..];
            if (lengthText.IsEmpty || lengthText.Length > 3 || !int.TryParse(lengthText, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out length))
            {
                return false;
            }

            if (mapped)
            {
                if (length > 128)
                {
                    return false;
                }

                if (length < 96)
                {
                    network = Create(address.V6Bits, length, isIPv6: true);
                    return true;
                }

                length -= 96;
            }
            else if (length > (address.IsIPv6 ? 128 : 32))
            {
                return false;
            }
        }

        network = Create(address.Bits, length, address.IsIPv6);
        return true;
    }

    private static IpNetwork Create(UInt128 bits, int length, bool isIPv6)
    {
        var width = isIPv6 ? 128 : 32;
        var all = isIPv6 ? UInt128.MaxValue : uint.MaxValue;
        var mask = length == 0 ? UInt128.Zero : (all << (width - length)) & all;
        return new IpNetwork(bits & mask, mask, length, isIPv6);
    }

    public bool Contains(in IpValue address)
    {
        if (IsIPv6)
        {
            return (address.V6Bits & Mask) == Prefix;
        }

        return !address.IsIPv6 && (address.Bits & Mask) == Prefix;
    }

    /// <summary>Whether <paramref name="networks"/> together cover every IPv4 or every IPv6 address.</summary>
    public static bool CoversEverything(IReadOnlyList<IpNetwork> networks)
    {
        var v4 = new List<(UInt128 First, UInt128 Last)>();
        var v6 = new List<(UInt128 First, UInt128 Last)>();
        foreach (var network in networks)
        {
            if (network.IsIPv6)
            {
                v6.Add((network.First, network.Last));
                var mappedFirst = (UInt128)0xFFFF << 32;
                var mappedLast = mappedFirst | uint.MaxValue;
                if (network.First <= mappedFirst && network.Last >= mappedLast)
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
