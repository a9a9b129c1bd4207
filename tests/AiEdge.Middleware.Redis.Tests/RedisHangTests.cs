using System.Diagnostics;
using System.Net;
using AiEdge.Middleware.Redis.Internal;
using AiEdge.Middleware.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace AiEdge.Middleware.Redis.Tests;

/// <summary>
/// A real redis-server hung for 5 seconds (<c>DEBUG SLEEP 5</c>) under load over two replicas: no 5xx, and every
/// request decided within the command timeout plus a margin. The figures go to docs/redis.md.
/// </summary>
public sealed class RedisHangTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan Margin = TimeSpan.FromSeconds(1.5);
    private RedisServerFixture _redis = null!;

    public async Task InitializeAsync() => _redis = await RedisServerFixture.StartAsync("--enable-debug-command", "yes");

    public Task DisposeAsync() => _redis.DisposeAsync();

    private Task<TestApp> StartReplicaAsync()
        => TestApp.StartEdgeAsync(
            static edge => edge.AddRateLimiting().AddRedis(),
            static app => app.MapGet("/loose", static () => "ok").WithRateLimitTier("loose"),
            new TestAppOptions
            {
                Configuration = new Dictionary<string, string?>
                {
                    ["AiEdge:Redis:Configuration"] = _redis.Configuration,
                    ["AiEdge:Redis:CommandTimeout"] = CommandTimeout.ToString(),
                    ["AiEdge:RateLimiting:Tiers:loose:Rate"] = "100000r/s",
                    ["AiEdge:RateLimiting:Tiers:loose:Burst"] = "100000",
                },
            });

    [Fact]
    public async Task RedisHungFiveSeconds_UnderLoadOverTwoReplicas_NoServerErrors_EveryRequestWithinTheCommandTimeout()
    {
        await using var a = await StartReplicaAsync();
        await using var b = await StartReplicaAsync();
        TestApp[] replicas = [a, b];
        using var stop = new CancellationTokenSource();
        var clock = Stopwatch.StartNew();
        var hungAt = TimeSpan.MaxValue;

        // 8 clients per replica, each sending one request after another, for the whole run.
        var workers = new Task<List<(TimeSpan Started, TimeSpan Elapsed, HttpStatusCode Status)>>[16];
        for (var w = 0; w < workers.Length; w++)
        {
            var client = replicas[w % 2].Client;
            workers[w] = Task.Run(async () =>
            {
                var samples = new List<(TimeSpan, TimeSpan, HttpStatusCode)>();
                while (!stop.IsCancellationRequested)
                {
                    var started = clock.Elapsed;
                    using var response = await client.GetAsync(new Uri("/loose", UriKind.Relative));
                    samples.Add((started, clock.Elapsed - started, response.StatusCode));
                }

                return samples;
            });
        }

        await Task.Delay(TimeSpan.FromSeconds(1));
        hungAt = clock.Elapsed;
        var hang = _redis.CommandAsync("DEBUG SLEEP 5");
        await hang;
        var resumedAt = clock.Elapsed;
        await Task.Delay(TimeSpan.FromSeconds(2));
        await stop.CancelAsync();
        var samples = (await Task.WhenAll(workers)).SelectMany(static s => s).ToList();

        var during = samples.Where(s => s.Started >= hungAt && s.Started < resumedAt).Select(static s => s.Elapsed).Order().ToList();
        var all = samples.Select(static s => s.Elapsed).Order().ToList();
        var errors = samples.Count(static s => (int)s.Status >= 500);
        var p99 = during[(int)Math.Ceiling(during.Count * 0.99) - 1];
        var p50 = during[during.Count / 2];
        var slow = during.Count(static e => e > TimeSpan.FromMilliseconds(100));
        output.WriteLine($"hang {resumedAt - hungAt:g}: {samples.Count} requests in all, {during.Count} started during the hang; 5xx {errors}; during the hang p50 {p50.TotalMilliseconds:F1} ms, p99 {p99.TotalMilliseconds:F1} ms, over 100 ms {slow}; max {all[^1].TotalMilliseconds:F0} ms");

        Assert.Equal(0, errors);
        Assert.All(samples, static s => Assert.Equal(HttpStatusCode.OK, s.Status));
        Assert.True(all[^1] < CommandTimeout + Margin, $"The slowest request took {all[^1]}.");

        // Recovery without a restart: both replicas use Redis again.
        foreach (var replica in replicas)
        {
            await replica.Services.GetRequiredService<RedisConnection>().WhenConnectedAsync().WaitAsync(TimeSpan.FromSeconds(30));
        }
    }
}
