using AiEdge.Middleware.Redis.Internal;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;

namespace AiEdge.Middleware.Redis.Tests;

/// <summary>Opens the suite's connections (over StackExchange.Redis) to a test server.</summary>
internal static class RedisTestConnections
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    public static async Task<RedisConnection> ConnectAsync(string configuration, Action<RedisOptions>? configure = null)
    {
        var connection = Create(configuration, configure);
        await connection.WhenConnectedAsync().WaitAsync(Timeout);
        return connection;
    }

    /// <summary>Waits (bounded) until the connection has given up its first attempt and says why.</summary>
    public static async Task<string?> LastErrorAsync(RedisConnection connection)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (connection.LastError is null or "connecting" && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        return connection.LastError;
    }

    public static RedisConnection Create(string configuration, Action<RedisOptions>? configure = null)
    {
        var options = new RedisOptions { Configuration = configuration, MaxReconnectDelay = TimeSpan.FromMilliseconds(200) };
        configure?.Invoke(options);
        var source = string.IsNullOrWhiteSpace(configuration) ? RedisConnectionSource.None : RedisConnectionSource.Owned(options);
        return new RedisConnection(options, source, null, NullLogger<RedisConnection>.Instance);
    }
}

/// <summary>Reads replies in the tests' terms.</summary>
internal static class RedisResultExtensions
{
    extension(RedisResult reply)
    {
        public long Integer => (long)reply;

        public byte[]? Bytes => (byte[]?)reply;

        public RedisResult[]? Items => (RedisResult[]?)reply;
    }
}
