using System.Buffers.Binary;
using AiEdge.Middleware.Internal;

namespace AiEdge.Middleware.Caching.Internal;

/// <summary>A SHA-256 request hash as four machine words: a cheap dictionary key with no allocation.</summary>
internal readonly struct CacheKey : IEquatable<CacheKey>
{
    private readonly ulong _a;
    private readonly ulong _b;
    private readonly ulong _c;
    private readonly ulong _d;

    public CacheKey(ReadOnlySpan<byte> hash)
    {
        _a = BinaryPrimitives.ReadUInt64LittleEndian(hash);
        _b = BinaryPrimitives.ReadUInt64LittleEndian(hash[8..]);
        _c = BinaryPrimitives.ReadUInt64LittleEndian(hash[16..]);
        _d = BinaryPrimitives.ReadUInt64LittleEndian(hash[24..]);
    }

    public bool Equals(CacheKey other) => _a == other._a && _b == other._b && _c == other._c && _d == other._d;

    public override bool Equals(object? obj) => obj is CacheKey other && Equals(other);

    public override int GetHashCode() => (int)_a ^ (int)(_a >> 32);

    /// <summary>The key as the store sees it.</summary>
    public PredictionCacheKey ToStoreKey() => new(_a, _b, _c, _d);

    public override string ToString()
    {
        Span<byte> bytes = stackalloc byte[32];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, _a);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes[8..], _b);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes[16..], _c);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes[24..], _d);
        return Convert.ToHexStringLower(bytes);
    }
}
