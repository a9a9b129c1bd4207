using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace AiEdge.Middleware.RateLimiting;

/// <summary>
/// Whose bucket a request is charged to: a client address (kept as 128 bits, IPv4 mapped into IPv6, so an IP
/// partition needs no string) or an identifier (API key name, caller id, claim value, user function result).
/// With a <see cref="RateLimitRule"/> it names one bucket; <see cref="ToString"/> is its stable text form for stores
/// that key state by text.
/// </summary>
public readonly struct PartitionKey : IEquatable<PartitionKey>
{
    private const ulong V4MappedPrefix = 0x0000_FFFFUL;

    private PartitionKey(UInt128 address, string? text)
    {
        Address = address;
        Text = text;
    }

    /// <summary>Gets the 128-bit address (IPv4 as <c>::ffff:a.b.c.d</c>); meaningful when <see cref="Text"/> is null.</summary>
    public UInt128 Address { get; }

    /// <summary>Gets the identifier, or <see langword="null"/> for an address partition.</summary>
    public string? Text { get; }

    /// <summary>Gets whether this is an address partition.</summary>
    public bool IsAddress => Text is null;

    /// <summary>The partition of requests whose client address is unknown (they share one bucket).</summary>
    public static PartitionKey UnknownAddress => default;

    /// <summary>An identifier partition.</summary>
    /// <param name="text">The identifier (compared ordinally).</param>
    public static PartitionKey FromText(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return new PartitionKey(default, text);
    }

    /// <summary>An address partition; IPv6 addresses are truncated to <paramref name="ipv6PrefixLength"/> bits.</summary>
    /// <param name="address">The client address; <see langword="null"/> gives <see cref="UnknownAddress"/>.</param>
    /// <param name="ipv6PrefixLength">The IPv6 bits kept (IPv4 and IPv4-mapped addresses are kept whole).</param>
    public static PartitionKey FromAddress(IPAddress? address, int ipv6PrefixLength = 128)
    {
        if (address is null)
        {
            return UnknownAddress;
        }

        Span<byte> bytes = stackalloc byte[16];
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            address.TryWriteBytes(bytes[12..], out _);
            return new PartitionKey((UInt128)(V4MappedPrefix << 32 | BinaryPrimitives.ReadUInt32BigEndian(bytes[12..])), null);
        }

        if (!address.TryWriteBytes(bytes, out var written) || written != 16)
        {
            return UnknownAddress;
        }

        var value = BinaryPrimitives.ReadUInt128BigEndian(bytes);
        if (address.IsIPv4MappedToIPv6 || ipv6PrefixLength >= 128)
        {
            return new PartitionKey(value, null);
        }

        var mask = ipv6PrefixLength <= 0 ? UInt128.Zero : UInt128.MaxValue << (128 - ipv6PrefixLength);
        return new PartitionKey(value & mask, null);
    }

    /// <inheritdoc />
    public bool Equals(PartitionKey other)
        => Address == other.Address && string.Equals(Text, other.Text, StringComparison.Ordinal);

    /// <summary>Compares two partitions for equality.</summary>
    public static bool operator ==(PartitionKey left, PartitionKey right) => left.Equals(right);

    /// <summary>Compares two partitions for inequality.</summary>
    public static bool operator !=(PartitionKey left, PartitionKey right) => !left.Equals(right);

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is PartitionKey other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode()
        => Text is null ? Address.GetHashCode() : StringComparer.Ordinal.GetHashCode(Text);

    /// <summary>
    /// A canonical, stable text form for distributed stores: <c>ip:</c> followed by the address (IPv4 dotted,
    /// else IPv6 text) or <c>id:</c> followed by the identifier. Allocates; not for the in-memory hot path.
    /// </summary>
    public override string ToString()
    {
        if (Text is not null)
        {
            return "id:" + Text;
        }

        if (Address >> 32 == V4MappedPrefix)
        {
            var v4 = (uint)(Address & uint.MaxValue);
            return string.Create(CultureInfo.InvariantCulture, $"ip:{v4 >> 24}.{(v4 >> 16) & 0xFF}.{(v4 >> 8) & 0xFF}.{v4 & 0xFF}");
        }

        Span<byte> bytes = stackalloc byte[16];
        BinaryPrimitives.WriteUInt128BigEndian(bytes, Address);
        return "ip:" + new IPAddress(bytes).ToString();
    }
}
