using StackExchange.Redis;

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
/// The suite's only view of Redis: a StackExchange.Redis <see cref="IConnectionMultiplexer"/> (the app's own or one
/// made from <c>AiEdge:Redis:Configuration</c>) with the suite's command timeout, breaker, topology-error reporting,
/// metrics and spans around every call.
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

    /// <summary>Gets the description of the last topology error (<c>MOVED</c> not followed, <c>CROSSSLOT</c>,
    /// <c>CLUSTERDOWN</c>, <c>READONLY</c>) seen recently, or <see langword="null"/>.</summary>
    string? RecentTopologyError { get; }

    /// <summary>Gets the database commands go to; throws <see cref="RedisConnectionException"/> when there is none yet.</summary>
    IDatabaseAsync Database { get; }

    /// <summary>Gets the client's pub/sub interface, or <see langword="null"/> before the connection started.</summary>
    ISubscriber? Subscriber { get; }

    /// <summary>
    /// Awaits <paramref name="command"/> for at most the command timeout. Every failure (no connection, timeout,
    /// error reply, topology error) faults the task with <see cref="RedisConnectionException"/>.
    /// </summary>
    Task<T> RunAsync<T>(Task<T> command, string operation);

    /// <summary>Runs a Lua script as <c>EVALSHA</c>, and with <c>EVAL</c> (which caches it) when the server answers <c>NOSCRIPT</c>.</summary>
    Task<RedisResult> EvaluateAsync(RedisScript script, RedisKey[] keys, RedisValue[] args);
}
