using System.Diagnostics;
using System.Net;
using AiEdge.Middleware.Redis.Internal;
using AiEdge.Middleware.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace AiEdge.Middleware.Redis.Tests;

/// <summary>One primary, one replica, three sentinels: two app instances configured with the service name share exact limits and ride through a failover.</summary>
public sealed class RedisSentinelTests(RedisSentinelFixture sentinel, ITestOutputHelper output) : IClassFixture<RedisSentinelFixture>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    private Task<TestApp> StartReplicaAsync(MetricsCollector metrics)
        => RateLimitedReplicas.StartAsync(sentinel.Configuration, metrics, ("strict", "1r/m", 19), ("loose", "100000r/s", 100000));

    private static Task<HttpStatusCode[]> HammerAsync(TestApp[] replicas, string path, int count)
        => RateLimitedReplicas.HammerAsync(replicas, path, count, Timeout);

    [Fact]
    public async Task TwoReplicas_ShareExactLimits_AndRideThroughAPrimaryKilledUnderLoad()
    {
        using var metrics = new MetricsCollector();
        await using var a = await StartReplicaAsync(metrics);
        await using var b = await StartReplicaAsync(metrics);
        TestApp[] replicas = [a, b];

        var before = await HammerAsync(replicas, "/strict", 200);
        Assert.Equal(20, before.Count(static s => s == HttpStatusCode.OK));

        // Load on both replicas while the primary is killed and the sentinels promote the replica.
        var load = SteadyLoad.Start(replicas, "/loose", 16);
        var statuses = load.Statuses;
        await load.AnsweredAsync(500);

        var oldPrimary = sentinel.Primary.Port;
        var killedAt = Stopwatch.GetTimestamp();
        sentinel.Primary.Kill();
        var deadline = DateTime.UtcNow + Timeout;
        while (await sentinel.PrimaryPortAsync() == oldPrimary)
        {
            Assert.True(DateTime.UtcNow < deadline, "The sentinels never promoted the replica.");
            await Task.Delay(50);
        }

        var promoted = Stopwatch.GetElapsedTime(killedAt);
        foreach (var replica in replicas)
        {
            await replica.Services.GetRequiredService<RedisConnection>().WhenConnectedAsync().WaitAsync(Timeout);
        }

        var reconnected = Stopwatch.GetElapsedTime(killedAt);
        await Task.Delay(500);
        await load.StopAsync(Timeout);

        var local = metrics.Measurements.Where(static m => m.Instrument == "aiedge.redis.fallbacks").Sum(static m => m.Value);
        var serverErrors = statuses.Count(static s => (int)s >= 500);
        output.WriteLine($"requests {statuses.Count}, 5xx {serverErrors}, decided locally {local}, slowest {load.Slowest.TotalMilliseconds:F0} ms, " +
            $"replica promoted after {promoted.TotalMilliseconds:F0} ms, both apps on the new primary after {reconnected.TotalMilliseconds:F0} ms");

        Assert.Equal(0, serverErrors);
        Assert.All(statuses, static s => Assert.Equal(HttpStatusCode.OK, s));

        // On the new primary the shared limit is exact again (it holds the replicated buckets: strict is exhausted).
        var after = await HammerAsync(replicas, "/strict", 40);
        Assert.True(after.Count(static s => s == HttpStatusCode.OK) <= 20, "The limit is shared again after the failover.");
        Assert.Equal(after.Length, after.Count(static s => s is HttpStatusCode.OK or HttpStatusCode.TooManyRequests));
    }
}
