using System.Text;

namespace AiEdge.Middleware.Redis.Internal;

/// <summary>The kind of a RESP reply.</summary>
internal enum RespType : byte
{
    /// <summary>A null bulk string or null array.</summary>
    Null,

    /// <summary>A simple string (<c>+OK</c>).</summary>
    SimpleString,

    /// <summary>An error reply (<c>-ERR ...</c>).</summary>
    Error,

    /// <summary>An integer (<c>:1</c>).</summary>
    Integer,

    /// <summary>A bulk string (<c>$3\r\nfoo</c>).</summary>
    BulkString,

    /// <summary>An array of replies.</summary>
    Array,
}

/// <summary>One RESP2 reply. Strings are kept as bytes; only the caller decides to decode them.</summary>
internal readonly struct RedisValue : IEquatable<RedisValue>
{
    private static readonly byte[] OkBytes = "OK"u8.ToArray();
    private static readonly byte[] PongBytes = "PONG"u8.ToArray();
    private static readonly byte[] QueuedBytes = "QUEUED"u8.ToArray();

    private RedisValue(RespType type, long integer, byte[]? bytes, RedisValue[]? items)
    {
        Type = type;
        Integer = integer;
        Bytes = bytes;
        Items = items;
    }

    /// <summary>Gets the null reply.</summary>
    public static RedisValue Null => default;

    /// <summary>Gets the reply kind.</summary>
    public RespType Type { get; }

    /// <summary>Gets the value of an integer reply.</summary>
    public long Integer { get; }

    /// <summary>Gets the bytes of a simple string, error or bulk string.</summary>
    public byte[]? Bytes { get; }

    /// <summary>Gets the elements of an array reply.</summary>
    public RedisValue[]? Items { get; }

    /// <summary>Gets whether this is a null reply.</summary>
    public bool IsNull => Type == RespType.Null;

    /// <summary>Gets whether this is an error reply.</summary>
    public bool IsError => Type == RespType.Error;

    public static RedisValue SimpleString(byte[] bytes) => new(RespType.SimpleString, 0, bytes, null);

    /// <summary>A simple string, reusing shared arrays for the common replies so they allocate nothing.</summary>
    public static RedisValue SimpleString(ReadOnlySpan<byte> bytes)
    {
        if (bytes.SequenceEqual(OkBytes))
        {
            return new(RespType.SimpleString, 0, OkBytes, null);
        }

        if (bytes.SequenceEqual(PongBytes))
        {
            return new(RespType.SimpleString, 0, PongBytes, null);
        }

        if (bytes.SequenceEqual(QueuedBytes))
        {
            return new(RespType.SimpleString, 0, QueuedBytes, null);
        }

        return new(RespType.SimpleString, 0, bytes.ToArray(), null);
    }

    public static RedisValue Error(byte[] bytes) => new(RespType.Error, 0, bytes, null);

    public static RedisValue Error(string message) => new(RespType.Error, 0, Encoding.UTF8.GetBytes(message), null);

    public static RedisValue FromInteger(long value) => new(RespType.Integer, value, null, null);

    public static RedisValue Bulk(byte[] bytes) => new(RespType.BulkString, 0, bytes, null);

    public static RedisValue Array(RedisValue[] items) => new(RespType.Array, 0, null, items);

    /// <summary>Decodes a string reply as UTF-8; <see langword="null"/> for null, integers as their digits.</summary>
    public override string? ToString() => Type switch
    {
        RespType.Null => null,
        RespType.Integer => Integer.ToString(System.Globalization.CultureInfo.InvariantCulture),
        RespType.Array => $"[{Items!.Length} items]",
        _ => Encoding.UTF8.GetString(Bytes!),
    };

    /// <summary>Reads an integer reply, or a string reply holding an integer.</summary>
    public bool TryGetInt64(out long value)
    {
        switch (Type)
        {
            case RespType.Integer:
                value = Integer;
                return true;
            case RespType.BulkString or RespType.SimpleString:
                return System.Buffers.Text.Utf8Parser.TryParse(Bytes, out value, out var consumed) && consumed == Bytes!.Length;
            default:
                value = 0;
                return false;
        }
    }

    /// <summary>Gets whether an error reply starts with <paramref name="prefix"/> (e.g. <c>NOSCRIPT</c>).</summary>
    public bool IsErrorWithPrefix(ReadOnlySpan<byte> prefix) => Type == RespType.Error && Bytes.AsSpan().StartsWith(prefix);

    public bool Equals(RedisValue other)
    {
        if (Type != other.Type || Integer != other.Integer)
        {
            return false;
        }

        if (Type == RespType.Array)
        {
            if (Items!.Length != other.Items!.Length)
            {
                return false;
            }

            for (var i = 0; i < Items.Length; i++)
            {
                if (!Items[i].Equals(other.Items[i]))
                {
                    return false;
                }
            }

            return true;
        }

        return Bytes.AsSpan().SequenceEqual(other.Bytes);
    }

    public override bool Equals(object? obj) => obj is RedisValue other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(Type, Integer, Bytes?.Length ?? 0, Items?.Length ?? 0);
}
