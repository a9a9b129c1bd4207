using System.Buffers.Binary;

namespace AiEdge.Middleware.Caching;

/// <summary>
/// The key of one prediction cache entry and of its coalescing lock: a SHA-256 hash of the request (32 bytes), held
/// as four machine words so comparing and hashing it allocates nothing.
/// </summary>
/// <remarks>
/// Keys are opaque: a store compares them whole and never reads meaning into them. A store that keys by text uses
/// <see cref="ToString"/>, which gives 64 lowercase hex digits (plain ASCII, safe in any key syntax); two keys are
/// equal exactly when their text forms are.
/// </remarks>
public readonly struct PredictionCacheKey : IEquatable<PredictionCacheKey>
{
    /// <summary>The length of a key in bytes.</summary>
    public const int Length = 32;

    private readonly ulong _a;
    private readonly ulong _b;
    private readonly ulong _c;
    private readonly ulong _d;

    /// <summary>Creates a key from its 32 bytes.</summary>
    /// <param name="hash">Exactly <see cref="Length"/> bytes.</param>
    /// <exception cref="ArgumentException"><paramref name="hash"/> is not 32 bytes long.</exception>
    public PredictionCacheKey(ReadOnlySpan<byte> hash)
    {
        if (hash.Length != Length)
        {
            throw new ArgumentException("A prediction cache key is 32 bytes long.", nameof(hash));
        }

        _a = BinaryPrimitives.ReadUInt64LittleEndian(hash);
        _b = BinaryPrimitives.ReadUInt64LittleEndian(hash[8..]);
        _c = BinaryPrimitives.ReadUInt64LittleEndian(hash[16..]);
        _d = BinaryPrimitives.ReadUInt64LittleEndian(hash[24..]);
    }

    internal PredictionCacheKey(ulong a, ulong b, ulong c, ulong d)
    {
        _a = a;
        _b = b;
        _c = c;
        _d = d;
    }

    /// <summary>Whether two keys are equal.</summary>
    public static bool operator ==(PredictionCacheKey left, PredictionCacheKey right) => left.Equals(right);

    /// <summary>Whether two keys differ.</summary>
    public static bool operator !=(PredictionCacheKey left, PredictionCacheKey right) => !left.Equals(right);

    /// <inheritdoc />
    public bool Equals(PredictionCacheKey other) => _a == other._a && _b == other._b && _c == other._c && _d == other._d;

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is PredictionCacheKey other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => (int)_a ^ (int)(_a >> 32);

    /// <summary>Writes the key's 32 bytes to <paramref name="destination"/>.</summary>
    /// <param name="destination">At least <see cref="Length"/> bytes.</param>
    public void CopyTo(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(destination, _a);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[8..], _b);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[16..], _c);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[24..], _d);
    }

    /// <summary>The key's text form: 64 lowercase hex digits.</summary>
    /// <returns>The key as ASCII text.</returns>
    public override string ToString()
    {
        Span<byte> bytes = stackalloc byte[Length];
        CopyTo(bytes);
        return Convert.ToHexStringLower(bytes);
    }
}
