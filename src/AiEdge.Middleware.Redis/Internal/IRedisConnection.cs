using System.Buffers;

namespace AiEdge.Middleware.Redis.Internal;

/// <summary>The state of the connection to Redis.</summary>
internal enum RedisConnectionState
{
    /// <summary>No endpoint is configured: every concern stays in memory.</summary>
    NotConfigured,

    /// <summary>Not connected yet, or the connection was lost; a (re)connection is being attempted with backoff.</summary>
    Disconnected,

    /// <summary>Connected and answering.</summary>
    Connected,
}

/// <summary>
/// The suite's only view of Redis: one multiplexed connection. The built-in RESP client implements it; an adapter
/// over another client (StackExchange.Redis's IConnectionMultiplexer) could replace it without touching the stores.
/// </summary>
internal interface IRedisConnection
{
    /// <summary>Gets the connection state. Callers check <see cref="IsConnected"/> before a command and decide
    /// locally when it is false, so a Redis known to be down costs nothing (the connection's breaker).</summary>
    RedisConnectionState State { get; }

    /// <summary>Gets whether commands can be sent now.</summary>
    bool IsConnected { get; }

    /// <summary>Gets the prefix of every key.</summary>
    string KeyPrefix { get; }

    /// <summary>Gets the last connection error, for health reports.</summary>
    string? LastError { get; }

    /// <summary>Sends a command. Error replies are returned as values; a lost, timed-out or absent connection
    /// faults the task with <see cref="RedisConnectionException"/>.</summary>
    Task<RedisValue> ExecuteAsync(string command, params ReadOnlySpan<RedisArg> args);

    /// <summary>Runs a Lua script by its SHA1 (<c>EVALSHA</c>), sending it whole with <c>EVAL</c> (which caches it) on its
    /// first use on a socket and when the server answers <c>NOSCRIPT</c>. Calls made one after another run in that order
    /// (unless the server drops its scripts while connected, e.g. <c>SCRIPT FLUSH</c>: the retried calls may then run later).</summary>
    Task<RedisValue> EvaluateAsync(RedisScript script, int keyCount, RedisArg[] keysAndArgs);

    /// <summary>Runs a Lua script as <see cref="EvaluateAsync(RedisScript, int, RedisArg[])"/> does, with keys and
    /// arguments that encode themselves straight into the connection's buffer.</summary>
    Task<RedisValue> EvaluateAsync(RedisScript script, IRedisScriptArguments arguments);
}

/// <summary>
/// The keys and arguments of one script call, already encoded or encoded on demand: a caller with many small
/// arguments (the rate-limit decisions of many requests) writes them without a <see cref="RedisArg"/> per value.
/// </summary>
internal interface IRedisScriptArguments
{
    /// <summary>Gets the number of keys (written first).</summary>
    int KeyCount { get; }

    /// <summary>Gets the number of keys and arguments together.</summary>
    int Count { get; }

    /// <summary>
    /// Writes every key, then every argument, each as a RESP bulk string. Called under the connection's write lock,
    /// once, or twice when the server answers <c>NOSCRIPT</c>; must write the same bytes each time and never throw.
    /// </summary>
    void WriteTo(IBufferWriter<byte> writer);
}
