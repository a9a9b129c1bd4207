using AiEdge.Middleware.Redis.Internal;
using Microsoft.Extensions.Logging.Abstractions;

namespace AiEdge.Middleware.Redis.Tests;

/// <summary>Opens connections of the built-in client to a test server.</summary>
internal static class RedisTestConnections
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    public static async Task<RedisConnection> ConnectAsync(string configuration, Action<RedisOptions>? configure = null)
    {
        var connection = Create(configuration, configure);
        await connection.WhenConnectedAsync().WaitAsync(Timeout);
        return connection;
    }

    public static RedisConnection Create(string configuration, Action<RedisOptions>? configure = null)
    {
        var options = new RedisOptions { Configuration = configuration, MaxReconnectDelay = TimeSpan.FromMilliseconds(200) };
        configure?.Invoke(options);
        return new RedisConnection(options, TimeProvider.System, null, NullLogger<RedisConnection>.Instance);
    }
}
