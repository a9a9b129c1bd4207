using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace AiEdge.Middleware.ForwardedHeaders.Internal;

/// <summary>
/// An IP address as a value, parsed and compared without allocating. IPv4 is kept in the low 32 bits;
/// IPv4-mapped IPv6 addresses (<c>::ffff:a.b.c.d</c>) are normalized to IPv4.
/// </summary>
internal readonly struct IpValue : IEquatable<IpValue>
{
    private static readonly UInt128 MappedPrefix = (UInt128)0xFFFF << 32;

    public IpValue(UInt128 bits, bool isIPv6)
    {
        Bits = bits;
        IsIPv6 = isIPv6;
    }

    public UInt128 Bits { get; }

    public bool IsIPv6 { get; }

    /// <summary>The address as IPv6 bits (IPv4 as its mapped form).</summary>
    public UInt128 V6Bits => IsIPv6 ? Bits : MappedPrefix | Bits;

    public static IpValue FromIPv4(uint value) => new(value, isIPv6: false);

    public static IpValue FromIPv6(UInt128 bits)
        => (bits >> 32) == 0xFFFF ? new IpValue(bits & uint.MaxValue, isIPv6: false) : new IpValue(bits, isIPv6: true);

    public static bool TryFrom(IPAddress? address, out IpValue value)
    {
        value = default;
        if (address is null)
        {
            return false;
        }

        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            Span<byte> bytes = stackalloc byte[4];
            if (!address.TryWriteBytes(bytes, out _))
            {
                return false;
            }

            value = FromIPv4(BinaryPrimitives.ReadUInt32BigEndian(bytes));
            return true;
        }

        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            Span<byte> bytes = stackalloc byte[16];
            if (!address.TryWriteBytes(bytes, out _))
            {
                return false;
            }

            value = FromIPv6(BinaryPrimitives.ReadUInt128BigEndian(bytes));
            return true;
        }

        return false;
    }

    public IPAddress ToIPAddress()
    {
        if (!IsIPv6)
        {
            Span<byte> four = stackalloc byte[4];
            BinaryPrimitives.WriteUInt32BigEndian(four, (uint)Bits);
            return new IPAddress(four);
        }

        Span<byte> sixteen = stackalloc byte[16];
        BinaryPrimitives.WriteUInt128BigEndian(sixteen, Bits);
        return new IPAddress(sixteen);
    }

    /// <summary>Parses a dotted-quad IPv4 or an IPv6 address (no brackets, port or zone), strictly and without allocating.</summary>
    public static bool TryParse(ReadOnlySpan<char> text, out IpValue value)
    {
        value = default;
        if (text.IsEmpty || text.Length > 45)
        {
            return false;
        }

        if (text.Contains(':'))
        {
            if (!TryParseV6(text, out var bits))
            {
                return false;
            }

            value = FromIPv6(bits);
            return true;
        }

        if (!TryParseV4(text, out var v4))
        {
            return false;
        }

        value = FromIPv4(v4);
        return true;
    }

    private static bool TryParseV4(ReadOnlySpan<char> text, out uint value)
    {
        value = 0;
        var parts = 0;
        var i = 0;
        while (true)
        {
            var start = i;
            var octet = 0;
            while (i < text.Length && char.IsAsciiDigit(text[i]))
            {
                octet = (octet * 10) + (text[i] - '0');
                i++;
                if (i - start > 3)
                {
                    return false;
                }
            }

            var length = i - start;
            if (length == 0 || octet > 255 || (length > 1 && text[start] == '0'))
            {
                return false;
            }

            value = (value << 8) | (uint)octet;
            parts++;
            if (i == text.Length)
            {
                return parts == 4;
            }

            if (text[i] != '.' || parts == 4)
            {
                return false;
            }

            i++;
        }
    }

    private static bool TryParseV6(ReadOnlySpan<char> text, out UInt128 bits)
    {
        bits = 0;
        Span<ushort> groups = stackalloc ushort[8];
        var count = 0;
        var gap = -1;
        var i = 0;
        if (text.StartsWith("::"))
        {
            gap = 0;
            i = 2;
            if (text.Length == 2)
            {
                return true;
            }
        }
        else if (text[0] == ':')
        {
            return false;
        }

        while (i < text.Length)
        {
            var end = i;
            while (end < text.Length && text[end] != ':')
            {
                end++;
            }

            var token = text[i..end];
            if (token.Contains('.'))
            {
                if (end != text.Length || count > 6 || !TryParseV4(token, out var v4))
                {
                    return false;
                }

                groups[count++] = (ushort)(v4 >> 16);
                groups[count++] = (ushort)v4;
                i = end;
                break;
            }

            if (token.IsEmpty || token.Length > 4 || count == 8)
            {
                return false;
            }

            var group = 0;
            foreach (var c in token)
            {
                var digit = HexValue(c);
                if (digit < 0)
                {
                    return false;
                }

                group = (group << 4) | digit;
            }

            groups[count++] = (ushort)group;
            if (end == text.Length)
            {
                i = end;
                break;
            }

            if (end + 1 < text.Length && text[end + 1] == ':')
            {
                if (gap >= 0)
                {
                    return false;
                }

                gap = count;
                i = end + 2;
            }
            else
            {
                i = end + 1;
                if (i == text.Length)
                {
                    return false;
                }
            }
        }

        if (gap < 0 ? count != 8 : count > 7)
        {
            return false;
        }

        var missing = 8 - count;
        for (var g = 0; g < count; g++)
        {
            var position = gap >= 0 && g >= gap ? g + missing : g;
            bits |= (UInt128)groups[g] << ((7 - position) * 16);
        }

        return true;
    }

    private static int HexValue(char c) => c switch
    {
        >= '0' and <= '9' => c - '0',
        >= 'a' and <= 'f' => c - 'a' + 10,
        >= 'A' and <= 'F' => c - 'A' + 10,
        _ => -1,
    };

    public bool Equals(IpValue other) => Bits == other.Bits && IsIPv6 == other.IsIPv6;

    public override bool Equals(object? obj) => obj is IpValue other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(Bits, IsIPv6);

    public static bool operator ==(IpValue left, IpValue right) => left.Equals(right);

    public static bool operator !=(IpValue left, IpValue right) => !left.Equals(right);
}
