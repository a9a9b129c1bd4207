using System.Net;
using AiEdge.Middleware.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace AiEdge.Middleware.Redis.Tests;

/// <summary>App instances (replicas) that share rate-limit tiers through one Redis, and concurrent load across them.</summary>
internal static class RateLimitedReplicas
{
    /// <summary>
    /// Starts a replica on <paramref name="configuration"/> with one GET endpoint per tier (<c>/{tier}</c>) and its
    /// meters collected by <paramref name="metrics"/>; reconnects quickly (every 500 ms at most) after a failover.
    /// </summary>
    public static Task<TestApp> StartAsync(string configuration, MetricsCollector metrics, params (string Name, string Rate, int Burst)[] tiers)
    {
        var settings = new Dictionary<string, string?>
        {
            ["AiEdge:Redis:Configuration"] = configuration,
            ["AiEdge:Redis:MaxReconnectDelay"] = "00:00:00.500",
        };
        foreach (var (name, rate, burst) in tiers)
        {
            settings[$"AiEdge:RateLimiting:Tiers:{name}:Rate"] = rate;
            settings[$"AiEdge:RateLimiting:Tiers:{name}:Burst"] = burst.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        return TestApp.StartAsync(
            builder =>
            {
                builder.Services.AddSingleton(metrics.MeterFactory);
                builder.Services.AddAiEdgeCore(static edge => edge.AddRateLimiting().AddRedis());
            },
            app =>
            {
                app.UseAiEdge();
                foreach (var (name, _, _) in tiers)
                {
                    app.MapGet("/" + name, static () => "ok").WithRateLimitTier(name);
                }
            },
            settings);
    }

    /// <summary>Sends <paramref name="count"/> concurrent GETs of <paramref name="path"/>, spread over the replicas in turn.</summary>
    public static async Task<HttpStatusCode[]> HammerAsync(TestApp[] replicas, string path, int count, TimeSpan timeout)
        => await Task.WhenAll(Enumerable.Range(0, count).Select(i => Task.Run(async () =>
        {
            using var response = await replicas[i % replicas.Length].Client.GetAsync(path);
            return response.StatusCode;
        }))).WaitAsync(timeout);
}

/// <summary>
/// Clients that each send one GET after another, spread over the replicas, until stopped: every answer's status and
/// the slowest request are recorded (the load a failover test kills a server under).
/// </summary>
internal sealed class SteadyLoad
{
    private readonly System.Collections.Concurrent.ConcurrentBag<HttpStatusCode> _statuses = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _gate = new();
    private readonly Task[] _workers;
    private TimeSpan _slowest;

    private SteadyLoad(TestApp[] replicas, string path, int clients)
    {
        _workers = new Task[clients];
        for (var w = 0; w < clients; w++)
        {
            var client = replicas[w % replicas.Length].Client;
            _workers[w] = Task.Run(async () =>
            {
                while (!_stop.IsCancellationRequested)
                {
                    var started = System.Diagnostics.Stopwatch.GetTimestamp();
                    using var response = await client.GetAsync(path);
                    var elapsed = System.Diagnostics.Stopwatch.GetElapsedTime(started);
                    lock (_gate)
                    {
                        _slowest = elapsed > _slowest ? elapsed : _slowest;
                    }

                    _statuses.Add(response.StatusCode);
                }
            });
        }
    }

    /// <summary>Gets the statuses answered so far.</summary>
    public System.Collections.Concurrent.ConcurrentBag<HttpStatusCode> Statuses => _statuses;

    /// <summary>Gets the slowest request so far.</summary>
    public TimeSpan Slowest
    {
        get
        {
            lock (_gate)
            {
                return _slowest;
            }
        }
    }

    /// <summary>Starts <paramref name="clients"/> clients on <paramref name="path"/>, client w on replica w modulo their number.</summary>
    public static SteadyLoad Start(TestApp[] replicas, string path, int clients) => new(replicas, path, clients);

    /// <summary>Waits until <paramref name="requests"/> answers have come back.</summary>
    public async Task AnsweredAsync(int requests)
    {
        while (_statuses.Count < requests)
        {
            await Task.Delay(10);
        }
    }

    /// <summary>Stops the clients and waits for their last requests.</summary>
    public async Task StopAsync(TimeSpan timeout)
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_workers).WaitAsync(timeout);
        _stop.Dispose();
    }
}
