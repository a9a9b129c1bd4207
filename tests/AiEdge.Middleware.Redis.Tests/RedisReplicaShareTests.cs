using System.Net;
using AiEdge.Middleware.Redis.Internal;
using AiEdge.Middleware.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Xunit.Abstractions;

namespace AiEdge.Middleware.Redis.Tests;

/// <summary>
/// Replicas learn through a real redis-server how many they are, and while it is killed each decides locally with its
/// share of the shared limit, so the fleet's total stays near the shared limit instead of doubling.
/// </summary>
public sealed class RedisReplicaShareTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan Heartbeat = TimeSpan.FromSeconds(5);
    private RedisServerFixture _redis = null!;

    public async Task InitializeAsync() => _redis = await RedisServerFixture.StartAsync();

    public Task DisposeAsync() => _redis.DisposeAsync();

    // 60r/m with burst 9: the shared limit over t seconds is 1 + 9 + t requests.
    private Task<TestApp> StartReplicaAsync(FakeTimeProvider time, TimeSpan heartbeat)
        => TestApp.StartEdgeAsync(
            static edge => edge.AddRateLimiting().AddRedis(),
            static app => app.MapGet("/shared", static () => "ok").WithRateLimitTier("shared"),
            new TestAppOptions
            {
                Time = time,
                Configuration = new Dictionary<string, string?>
                {
                    ["AiEdge:Redis:Configuration"] = _redis.Configuration,
                    ["AiEdge:Redis:ReplicaHeartbeatInterval"] = heartbeat.ToString(),
                    ["AiEdge:RateLimiting:Tiers:shared:Rate"] = "60r/m",
                    ["AiEdge:RateLimiting:Tiers:shared:Burst"] = "9",
                },
            });

    [Theory]
    [InlineData(true, 20)]   // each replica 0.5r/s with burst 4.5: together the shared limit
    [InlineData(false, 40)]  // no heartbeat (before): each replica the whole limit, the fleet twice it
    public async Task TwoReplicas_RedisKilled_FleetAdmitsItsShareOfTheSharedLimit(bool share, int expected)
    {
        var time = new FakeTimeProvider(TestClock.Start);
        await using var a = await StartReplicaAsync(time, share ? Heartbeat : TimeSpan.Zero);
        await using var b = await StartReplicaAsync(time, share ? Heartbeat : TimeSpan.Zero);
        TestApp[] replicas = [a, b];
        if (share)
        {
            // b counted both at its start; a learns of b at its next beat.
            await AdvanceAndBeatAsync(time, replicas);
            Assert.All(replicas, static r => Assert.Equal(2, Presence(r).Replicas));
        }

        _redis.Kill();
        await WaitUntilDisconnectedAsync(replicas);

        // Ten seconds of outage on the apps' clock, with 20 concurrent requests on each replica every second.
        var admitted = 0;
        for (var second = 0; second <= 10; second++)
        {
            admitted += await AdmittedAsync(replicas, 20);
            time.Advance(TimeSpan.FromSeconds(1));
        }

        // The shared limit over the outage: 1 + burst 9 + 10 drained = 20; the bound allows n - 1 = 1 more.
        output.WriteLine($"share={share}: the fleet admitted {admitted} during the outage; shared limit 20.");
        Assert.Equal(expected, admitted);
    }

    [Fact]
    public async Task ReplicaJoinsAndLeaves_CountRisesAtTheNextBeat_AndFallsAfterThreeBeats()
    {
        var time = new FakeTimeProvider(TestClock.Start);
        await using var a = await StartReplicaAsync(time, Heartbeat);
        await using var b = await StartReplicaAsync(time, Heartbeat);
        var c = await StartReplicaAsync(time, Heartbeat);

        // A replica that joined counts for the others from their next beat.
        await AdvanceAndBeatAsync(time, [a, b, c]);
        Assert.Equal(3, Presence(a).Replicas);
        Assert.Equal(3, Presence(b).Replicas);

        // One that leaves removes itself; the others keep counting it for three beats (the safe side: a smaller share).
        await c.DisposeAsync();
        TestApp[] left = [a, b];
        await AdvanceAndBeatAsync(time, left);
        await AdvanceAndBeatAsync(time, left);
        Assert.Equal(3, Presence(a).Replicas);
        await AdvanceAndBeatAsync(time, left);
        Assert.Equal(2, Presence(a).Replicas);
        Assert.Equal(2, Presence(b).Replicas);
    }

    [Fact]
    public async Task Presence_LivesInTheRateLimitSlot_AndExpires()
    {
        var time = new FakeTimeProvider(TestClock.Start);
        await using var a = await StartReplicaAsync(time, Heartbeat);

        var members = await _redis.CommandAsync("ZCARD aiedge:{rl}:replicas");
        var ttl = await _redis.CommandAsync("PTTL aiedge:{rl}:replicas");

        Assert.Equal(":1", members.Trim());
        var ms = long.Parse(ttl.Trim().TrimStart(':'), System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(ms, 1, 15_000);
    }

    private static RedisReplicaPresence Presence(TestApp app) => app.Services.GetRequiredService<RedisReplicaPresence>();

    /// <summary>Moves the apps' clock one heartbeat on and waits until every replica's beat reached Redis.</summary>
    private static async Task AdvanceAndBeatAsync(FakeTimeProvider time, TestApp[] replicas)
    {
        var before = new int[replicas.Length];
        for (var i = 0; i < replicas.Length; i++)
        {
            before[i] = Presence(replicas[i]).BeatCount;
        }

        time.Advance(Heartbeat);
        var deadline = DateTime.UtcNow + Timeout;
        for (var i = 0; i < replicas.Length; i++)
        {
            while (Presence(replicas[i]).BeatCount == before[i])
            {
                Assert.True(DateTime.UtcNow < deadline, "A replica's beat never reached Redis.");
                await Task.Delay(5);
            }
        }
    }

    private static async Task<int> AdmittedAsync(TestApp[] replicas, int perReplica)
    {
        var tasks = new Task<HttpStatusCode>[replicas.Length * perReplica];
        for (var i = 0; i < tasks.Length; i++)
        {
            var client = replicas[i % replicas.Length].Client;
            tasks[i] = Task.Run(async () =>
            {
                using var response = await client.GetAsync(new Uri("/shared", UriKind.Relative));
                return response.StatusCode;
            });
        }

        var statuses = await Task.WhenAll(tasks).WaitAsync(Timeout);
        var admitted = 0;
        foreach (var status in statuses)
        {
            Assert.True(status is HttpStatusCode.OK or HttpStatusCode.TooManyRequests, $"Unexpected {status}.");
            admitted += status == HttpStatusCode.OK ? 1 : 0;
        }

        return admitted;
    }

    private static async Task WaitUntilDisconnectedAsync(TestApp[] replicas)
    {
        var deadline = DateTime.UtcNow + Timeout;
        foreach (var replica in replicas)
        {
            var connection = replica.Services.GetRequiredService<IRedisConnection>();
            while (connection.IsConnected)
            {
                Assert.True(DateTime.UtcNow < deadline, "The connection never noticed Redis was gone.");
                await Task.Delay(10);
            }
        }
    }
}
