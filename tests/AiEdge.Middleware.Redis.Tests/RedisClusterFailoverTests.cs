using System.Diagnostics;
using System.Net;
using AiEdge.Middleware.Redis.Internal;
using AiEdge.Middleware.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace AiEdge.Middleware.Redis.Tests;

/// <summary>
/// Two app instances over the 6-node cluster; the primary of the rate-limit slot is killed under load and its replica
/// takes over: no 5xx, the requests decided locally meanwhile are counted, and the shared limits are exact afterwards.
/// </summary>
[Collection(RedisClusterCollection.Name)]
public sealed class RedisClusterFailoverTests(RedisClusterFixture cluster, ITestOutputHelper output)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    private Task<TestApp> StartReplicaAsync(MetricsCollector metrics)
        => RateLimitedReplicas.StartAsync(cluster.Configuration, metrics, ("before", "1r/m", 19), ("after", "1r/m", 29), ("loose", "100000r/s", 100000));

    private static Task<HttpStatusCode[]> HammerAsync(TestApp[] replicas, string path, int count)
        => RateLimitedReplicas.HammerAsync(replicas, path, count, Timeout);

    private static double Fallbacks(MetricsCollector metrics)
        => metrics.Measurements.Where(static m => m.Instrument == "aiedge.redis.fallbacks").Sum(static m => m.Value);

    [Fact]
    public async Task TwoReplicas_PrimaryOfTheRateLimitSlotKilledUnderLoad_NoServerErrors_AndExactLimitsAfterTheFailover()
    {
        var slot = await cluster.SlotOfAsync(RedisRateLimitStore.HashTag);
        var primary = await cluster.PrimaryOfSlotAsync(slot);
        foreach (var node in cluster.Nodes)
        {
            if (node.IsRunning && (await node.CommandAsync("ROLE")).Contains("master", StringComparison.Ordinal))
            {
                await node.CommandAsync("FLUSHALL");
            }
        }

        using var metrics = new MetricsCollector();
        await using var a = await StartReplicaAsync(metrics);
        await using var b = await StartReplicaAsync(metrics);
        TestApp[] replicas = [a, b];
        try
        {
            var before = await HammerAsync(replicas, "/before", 200);
            Assert.Equal(20, before.Count(static s => s == HttpStatusCode.OK));

            // 16 clients, each sending one request after another, while the primary is killed and its replica promoted.
            var load = SteadyLoad.Start(replicas, "/loose", 16);
            var statuses = load.Statuses;
            await load.AnsweredAsync(500);

            // A replica takes over only when its link to the primary is up (a replica that never synced may not).
            await WaitForConnectedReplicaAsync(primary);
            var localBefore = Fallbacks(metrics);
            var requestsBefore = statuses.Count;
            var killedAt = Stopwatch.GetTimestamp();
            primary.Kill();
            var deadline = DateTime.UtcNow + Timeout;
            while (await PrimaryOrNullAsync(slot) is not { } promoted || promoted == primary)
            {
                Assert.True(DateTime.UtcNow < deadline, "The cluster never promoted the replica.");
                await Task.Delay(50);
            }

            var promotedAfter = Stopwatch.GetElapsedTime(killedAt);

            // Both apps decide through Redis again: a request on each adds no local decision.
            TimeSpan? sharedAgainAfter = null;
            while (sharedAgainAfter is null)
            {
                Assert.True(DateTime.UtcNow < deadline, "The apps never decided through Redis again.");
                var local = Fallbacks(metrics);
                await HammerAsync(replicas, "/loose", 2);
                if (Fallbacks(metrics) == local)
                {
                    sharedAgainAfter = Stopwatch.GetElapsedTime(killedAt);
                }
                else
                {
                    await Task.Delay(50);
                }
            }

            await Task.Delay(500);
            await load.StopAsync(Timeout);

            var decidedLocally = Fallbacks(metrics) - localBefore;
            var serverErrors = statuses.Count(static s => (int)s >= 500);
            output.WriteLine($"requests {statuses.Count} ({statuses.Count - requestsBefore} after the kill), 5xx {serverErrors}, decided locally {decidedLocally}, " +
                $"slowest {load.Slowest.TotalMilliseconds:F0} ms, replica promoted after {promotedAfter.TotalMilliseconds:F0} ms, " +
                $"both apps deciding through Redis after {sharedAgainAfter.Value.TotalMilliseconds:F0} ms");

            Assert.Equal(0, serverErrors);
            Assert.All(statuses, static s => Assert.Equal(HttpStatusCode.OK, s));

            // On the new primary the limits are shared and exact again: a fresh tier admits exactly 1 + burst, and
            // nothing is decided locally.
            var localAfter = Fallbacks(metrics);
            var after = await HammerAsync(replicas, "/after", 300);
            Assert.Equal(30, after.Count(static s => s == HttpStatusCode.OK));
            Assert.Equal(270, after.Count(static s => s == HttpStatusCode.TooManyRequests));
            Assert.Equal(localAfter, Fallbacks(metrics));
        }
        finally
        {
            // The killed node comes back (empty) and rejoins as a replica, so the cluster stays whole for the other tests.
            await primary.RestartAsync();
            await cluster.WaitUntilOkAsync(Timeout);
        }
    }

    private async Task WaitForConnectedReplicaAsync(RedisServerFixture primary)
    {
        var deadline = DateTime.UtcNow + Timeout;
        var port = ":" + primary.Port.ToString(System.Globalization.CultureInfo.InvariantCulture) + "\r\n";
        while (true)
        {
            foreach (var node in cluster.Nodes)
            {
                if (node != primary && node.IsRunning)
                {
                    var role = await node.CommandAsync("ROLE");
                    if (role.Contains("slave", StringComparison.Ordinal) && role.Contains(port, StringComparison.Ordinal) && role.Contains("connected", StringComparison.Ordinal))
                    {
                        return;
                    }
                }
            }

            Assert.True(DateTime.UtcNow < deadline, "No replica of the primary is connected to it.");
            await Task.Delay(50);
        }
    }

    private async Task<RedisServerFixture?> PrimaryOrNullAsync(int slot)
    {
        try
        {
            return await cluster.PrimaryOfSlotAsync(slot);
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }
}
