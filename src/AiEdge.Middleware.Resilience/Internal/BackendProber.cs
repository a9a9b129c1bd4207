using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AiEdge.Middleware.Resilience.Internal;

/// <summary>
/// Active health probes (the NGINX <c>check interval= rise= fall=</c>): every <see cref="BackendOptions.ProbeInterval"/>
/// each replica with a health URL gets a GET; <see cref="BackendOptions.UnhealthyThreshold"/> failures in a row take
/// it out of rotation, <see cref="BackendOptions.HealthyThreshold"/> successes bring it back, and a success closes
/// the replica's open breaker. Timers come from <see cref="TimeProvider"/>.
/// </summary>
internal sealed partial class BackendProber(BreakerRegistry registry, IHttpClientFactory clients, TimeProvider time, ILogger<BackendProber> logger) : IHostedService, IAsyncDisposable
{
    public const string ClientName = "AiEdge.Resilience.Probes";

    internal ILogger Logger => logger;

    private readonly List<ITimer> _timers = [];
    private readonly CancellationTokenSource _stopping = new();

    public Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var pool in registry.Pools)
        {
            if (!HasProbes(pool))
            {
                continue;
            }

            var state = new PoolProbe(this, pool);
            _timers.Add(time.CreateTimer(static s => ((PoolProbe)s!).Fire(), state, pool.Options.ProbeInterval, pool.Options.ProbeInterval));
        }

        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        // Stopping twice, or after DisposeAsync (a host disposed while another service stops), is harmless: the
        // source is never disposed, so a late probe or a second stop never meets an ObjectDisposedException.
        await _stopping.CancelAsync().ConfigureAwait(false);
        ITimer[] timers;
        lock (_timers)
        {
            timers = [.. _timers];
            _timers.Clear();
        }

        foreach (var timer in timers)
        {
            await timer.DisposeAsync().ConfigureAwait(false);
        }
    }

    public ValueTask DisposeAsync() => new(StopAsync(CancellationToken.None));

    /// <summary>Probes every replica of <paramref name="pool"/> that has a health URL, once, in parallel.</summary>
    public async Task ProbePoolAsync(BackendPool pool)
    {
        var replicas = pool.Replicas;
        var probes = new Task[replicas.Length];
        for (var i = 0; i < replicas.Length; i++)
        {
            probes[i] = replicas[i].HealthUri is null ? Task.CompletedTask : ProbeReplicaAsync(pool, replicas[i]);
        }

        await Task.WhenAll(probes).ConfigureAwait(false);
    }

    private static bool HasProbes(BackendPool pool)
    {
        foreach (var replica in pool.Replicas)
        {
            if (replica.HealthUri is not null)
            {
                return true;
            }
        }

        return false;
    }

    private async Task ProbeReplicaAsync(BackendPool pool, Circuit replica)
    {
        bool success;
        using var timeout = new CancellationTokenSource(pool.Options.ProbeTimeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, _stopping.Token);
        try
        {
            using var client = clients.CreateClient(ClientName);
            using var response = await client.GetAsync(replica.HealthUri, HttpCompletionOption.ResponseHeadersRead, linked.Token).ConfigureAwait(false);
            success = response.IsSuccessStatusCode;
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            return;
        }
        catch (Exception exception) when (exception is HttpRequestException or OperationCanceledException)
        {
            success = false;
        }

        Log.Probed(logger, replica.DisplayName, success);
        if (replica.RecordProbe(success, pool.Options.HealthyThreshold, pool.Options.UnhealthyThreshold) || (success && replica.State != Polly.CircuitBreaker.CircuitState.Closed))
        {
            if (replica.State is Polly.CircuitBreaker.CircuitState.Open or Polly.CircuitBreaker.CircuitState.HalfOpen)
            {
                await replica.Control.CloseAsync(CancellationToken.None).ConfigureAwait(false);
            }
        }
    }

    private sealed class PoolProbe(BackendProber prober, BackendPool pool)
    {
        private int _running;

        public void Fire()
        {
            if (Interlocked.Exchange(ref _running, 1) == 1)
            {
                return;
            }

            _ = RunAsync();
        }

        private async Task RunAsync()
        {
            try
            {
                await prober.ProbePoolAsync(pool).ConfigureAwait(false);
            }
            catch (Exception exception)
            {
                Log.ProbeRoundFailed(prober.Logger, pool.Name, exception);
            }
            finally
            {
                Volatile.Write(ref _running, 0);
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1630, LogLevel.Debug, "Health probe of {Replica}: {Success}.", EventName = "Probed")]
        public static partial void Probed(ILogger logger, string replica, bool success);

        [LoggerMessage(1631, LogLevel.Error, "A health probe round of backend {Backend} failed.", EventName = "ProbeRoundFailed")]
        public static partial void ProbeRoundFailed(ILogger logger, string backend, Exception exception);
    }
}
