namespace AiEdge.Middleware.Redis.Internal;

/// <summary>One argument of a Redis command, encoded when the command is written (no intermediate strings).</summary>
internal readonly struct RedisArg
{
    private readonly object? _reference;
    private readonly long _integer;

    private RedisArg(object? reference, long integer)
    {
        _reference = reference;
        _integer = integer;
    }

    /// <summary>Gets the string, byte array or <see cref="ReadOnlyMemory{T}"/> holder of the argument; null for an integer.</summary>
    public object? Reference => _reference;

    /// <summary>Gets the integer value when <see cref="Reference"/> is null.</summary>
    public long Integer => _integer;

    /// <summary>Gets the memory of a byte argument (set only for <see cref="ReadOnlyMemory{T}"/> arguments).</summary>
    public ReadOnlyMemory<byte> Memory { get; private init; }

    public bool IsMemory => _reference is MemoryMarker;

    public static implicit operator RedisArg(string value) => new(value ?? string.Empty, 0);

    public static implicit operator RedisArg(byte[] value) => new(value ?? [], 0);

    public static implicit operator RedisArg(long value) => new(null, value);

    public static implicit operator RedisArg(ReadOnlyMemory<byte> value) => new(MemoryMarker.Instance, 0) { Memory = value };

    /// <summary>Distinguishes memory arguments without boxing the memory.</summary>
    internal sealed class MemoryMarker
    {
        public static readonly MemoryMarker Instance = new();
    }
}
