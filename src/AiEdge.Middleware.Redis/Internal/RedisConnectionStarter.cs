using Microsoft.Extensions.Hosting;

namespace AiEdge.Middleware.Redis.Internal;

/// <summary>
/// Connects to Redis while the host starts, waiting at most the connect timeout: a Redis that is down never blocks
/// startup (the multiplexer keeps trying in the background and the concerns decide locally meanwhile).
/// </summary>
internal sealed class RedisConnectionStarter(RedisConnection connection, Microsoft.Extensions.Options.IOptions<RedisOptions> options) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (connection.State == RedisConnectionState.NotConfigured)
        {
            return;
        }

        try
        {
            await connection.WhenConnectedAsync().WaitAsync(options.Value.ConnectTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // Logged by the connection; it keeps reconnecting in the background.
        }
    }

    // The container owns the connection and disposes it with the other singletons; stopping has nothing to wait for.
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
