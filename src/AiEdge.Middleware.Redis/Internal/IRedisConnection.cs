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

    /// <summary>Runs a Lua script by its SHA1 (<c>EVALSHA</c>), loading it with <c>EVAL</c> when the server answers <c>NOSCRIPT</c>.</summary>
    Task<RedisValue> EvaluateAsync(RedisScript script, int keyCount, RedisArg[] keysAndArgs);
}
