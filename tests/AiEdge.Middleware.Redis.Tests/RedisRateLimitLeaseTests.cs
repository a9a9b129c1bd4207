using System.Net;
using AiEdge.Middleware.RateLimiting;
using AiEdge.Middleware.Redis.Internal;
using AiEdge.Middleware.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Xunit.Abstractions;

namespace AiEdge.Middleware.Redis.Tests;

/// <summary>
/// Rate-limit leases (<c>AiEdge:Redis:RateLimitLeases</c>) over a real redis-server: replicas are separate stores on
/// separate connections (or separate app instances) sharing one bucket; the Redis clock is fixed where the bound is
/// counted exactly, and each replica's lease lifetime runs on its own fake clock.
/// </summary>
public sealed class RedisRateLimitLeaseTests(RedisServerFixture redis, ITestOutputHelper output) : IClassFixture<RedisServerFixture>
{
    private static readonly TimeSpan Timeout = RedisTestConnections.Timeout;
    private const long Now = 1_000_000_000;

    private static RateLimitRule Requests(long perSecond, long burst, long delay = long.MaxValue, int lockOrder = 0, string tier = "t")
        => new(tier, null, RateLimitUnit.Requests, perSecond * 1000, 1000, burst * 1000, delay == long.MaxValue ? long.MaxValue : delay * 1000, lockOrder, perSecond, 1);

    private static RateLimitRule Tokens(long perMinute)
        => new("t", null, RateLimitUnit.Tokens, perMinute * 1000, 60_000, perMinute * 1000, long.MaxValue, 1, perMinute, 60);

    private sealed record Replica(RedisConnection Connection, RedisRateLimitStore Exact, RedisRateLimitLeaseStore Leased, FakeTimeProvider Clock) : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => Connection.DisposeAsync();
    }

    private async Task<Replica> ReplicaAsync(TimeSpan lifetime, double fraction = 0.1)
    {
        var connection = await RedisTestConnections.ConnectAsync(redis.Configuration, o => o.CommandTimeout = Timeout);
        var exact = new RedisRateLimitStore(connection, RedisRateLimitStoreTests.InMemory(), new RedisOptions(), null) { FixedNowMs = Now };
        var clock = new FakeTimeProvider(TestClock.Start);
        var leased = new RedisRateLimitLeaseStore(exact, connection, new RedisRateLimitLeaseOptions { Enabled = true, BurstFraction = fraction, Lifetime = lifetime }, clock);
        return new Replica(connection, exact, leased, clock);
    }

    private static async Task<RateLimitBatch> DecideAsync(IRateLimitStore store, RateLimitRule rule, PartitionKey partition)
    {
        var batch = new RateLimitBatch { NowMs = Now };
        batch.Add(rule, partition, LeakyBucket.OneRequest);
        await store.AcquireAsync(batch, default).AsTask().WaitAsync(Timeout);
        return batch;
    }

    // Real concurrency on two replicas, the Redis clock fixed (nothing drains): 100r/s with burst 200 allows 201
    // requests at one instant; leases hold up to 20 (10% of the burst). The fleet never admits more than 201, and at
    // least 201 minus one lease's leftovers per replica (a lease granted after that replica's last request was
    // decided), with far fewer round trips than decisions.
    [Fact]
    public async Task TwoReplicas_ConcurrentDecisionsOnOneBucket_AdmitExactlyTheBucketAndNeverMore()
    {
        await using var a = await ReplicaAsync(TimeSpan.FromSeconds(1));
        await using var b = await ReplicaAsync(TimeSpan.FromSeconds(1));
        var rule = Requests(100, 200);
        var partition = PartitionKey.FromText(Guid.NewGuid().ToString("n"));
        var replicas = new[] { a, b };

        var decisions = await Task.WhenAll(Enumerable.Range(0, 1000).Select(i => Task.Run(async () =>
            (await DecideAsync(replicas[i % 2].Leased, rule, partition)).Admitted))).WaitAsync(Timeout);

        var roundTrips = a.Exact.ScriptCalls + a.Leased.LeaseCalls + b.Exact.ScriptCalls + b.Leased.LeaseCalls;
        output.WriteLine($"admitted {decisions.Count(static admitted => admitted)} of 201, {roundTrips} round trips for 1000 decisions");
        Assert.InRange(decisions.Count(static admitted => admitted), 201 - (2 * (20 - 1)), 201);
        Assert.True(roundTrips < 201 / 2, $"{roundTrips} round trips for 201 admissions");
    }

    // One replica's lease lifecycle on its own fake clock, the Redis clock fixed. Exact, lease of 2, doubled to 4,
    // then the lease expires with 2 unused: those stay charged (the other replica sees them gone) and the next lease
    // is sized by what the expired one served. Every RateLimit remaining matches what exact decisions would show.
    [Fact]
    public async Task Lease_GrowsWhenUsedUp_StrandsItsUnusedRequestsWhenItExpires_AndIsResizedByUse()
    {
        await using var a = await ReplicaAsync(TimeSpan.FromSeconds(1));
        await using var b = await ReplicaAsync(TimeSpan.FromSeconds(1));
        var rule = Requests(100, 100);
        var partition = PartitionKey.FromText(Guid.NewGuid().ToString("n"));

        var remaining = new List<long>();
        for (var i = 0; i < 5; i++)
        {
            var batch = await DecideAsync(a.Leased, rule, partition);
            Assert.True(batch.Admitted);
            remaining.Add(batch.Results[0].Remaining);
        }

        Assert.Equal([100, 99, 98, 97, 96], remaining);
        Assert.Equal((1, 2), (a.Exact.ScriptCalls, a.Leased.LeaseCalls));

        a.Clock.Advance(TimeSpan.FromSeconds(1));
        var other = await DecideAsync(b.Leased, rule, partition);

        // Charged: 1 exact + 2 + 4 leased = 7, of which 5 admitted; b's request is the 8th charge.
        Assert.Equal(93, other.Results[0].Remaining);

        var next = await DecideAsync(a.Leased, rule, partition);
        Assert.Equal(3, a.Leased.LeaseCalls);
        Assert.Equal(92, next.Results[0].Remaining);
        var local = await DecideAsync(a.Leased, rule, partition);
        Assert.Equal((3, 91L), (a.Leased.LeaseCalls, local.Results[0].Remaining));
    }

    // Near the limit a lease that does not fit is not granted: the same call decides the one request exactly, and a
    // refusal carries the exact retry-after.
    [Fact]
    public async Task Lease_ThatDoesNotFit_DecidesTheOneRequestExactly()
    {
        await using var a = await ReplicaAsync(TimeSpan.FromSeconds(1), fraction: 0.5);
        var rule = Requests(100, 4);
        var partition = PartitionKey.FromText(Guid.NewGuid().ToString("n"));

        var admitted = 0;
        RateLimitBatch last = null!;
        for (var i = 0; i < 8; i++)
        {
            last = await DecideAsync(a.Leased, rule, partition);
            admitted += last.Admitted ? 1 : 0;
        }

        Assert.Equal(5, admitted);
        Assert.False(last.Admitted);
        Assert.Equal(10, last.Results[0].RetryAfterMs);
    }

    // Decisions a lease does not fit stay exact, made by the exact store: a tier with a delay, a token budget, several
    // rules at once, and a burst too small to lease (10% of 19 is under 2).
    [Fact]
    public async Task DelayTiers_TokenBudgets_SeveralRules_AndSmallBursts_StayExact()
    {
        await using var a = await ReplicaAsync(TimeSpan.FromSeconds(1));
        var partition = PartitionKey.FromText(Guid.NewGuid().ToString("n"));
        var delayed = Requests(100, 100, delay: 10, tier: "delayed");
        var small = Requests(100, 19, tier: "small");
        var tokens = Tokens(6000);
        var both = Requests(100, 100, lockOrder: 0, tier: "both");

        for (var i = 0; i < 4; i++)
        {
            await DecideAsync(a.Leased, delayed, partition);
            await DecideAsync(a.Leased, small, partition);
            var token = new RateLimitBatch { NowMs = Now };
            token.Add(tokens, partition, 5_000);
            await a.Leased.AcquireAsync(token, default).AsTask().WaitAsync(Timeout);
            var several = new RateLimitBatch { NowMs = Now };
            several.Add(both, partition, LeakyBucket.OneRequest);
            several.Add(tokens, partition, 1_000);
            await a.Leased.AcquireAsync(several, default).AsTask().WaitAsync(Timeout);
        }

        Assert.Equal(0, a.Leased.LeaseCalls);
        Assert.Equal(16, a.Exact.ScriptCalls);
        Assert.Equal((0, 0, 0), (a.Leased.MaxLease(delayed), a.Leased.MaxLease(small), a.Leased.MaxLease(tokens)));
    }

    // Two app instances sharing a tier over HTTP with leases on, on the real Redis clock: 1r/m with burst 199 allows
    // 200; a lease holds at most 10 (what 1r/m drains in a 10-minute lifetime). The fleet never admits more than 200,
    // and at least 200 minus the documented bound (2 replicas x 2 x (10 - 1)). Off, the same load admits exactly 200.
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task TwoAppReplicas_ThousandConcurrentRequests_StayWithinTheSharedLimit(bool leases)
    {
        var tier = "lease" + Guid.NewGuid().ToString("n")[..8];
        await using var a = await StartReplicaAsync(tier, leases);
        await using var b = await StartReplicaAsync(tier, leases);
        var replicas = new[] { a, b };

        var statuses = await Task.WhenAll(Enumerable.Range(0, 1000).Select(i => Task.Run(async () =>
        {
            using var response = await replicas[i % 2].Client.GetAsync("/leased");
            return response.StatusCode;
        }))).WaitAsync(TimeSpan.FromSeconds(60));

        var admitted = statuses.Count(static s => s == HttpStatusCode.OK);
        output.WriteLine($"leases {(leases ? "on" : "off")}: admitted {admitted} of 200");
        Assert.Equal(1000 - admitted, statuses.Count(static s => s == HttpStatusCode.TooManyRequests));
        if (leases)
        {
            Assert.InRange(admitted, 200 - (2 * 2 * 9), 200);
        }
        else
        {
            Assert.Equal(200, admitted);
        }
    }

    [Theory]
    [InlineData(0.0, 200, "AiEdge:Redis:RateLimitLeases:BurstFraction must be more than 0 and at most 0.5.")]
    [InlineData(0.6, 200, "AiEdge:Redis:RateLimitLeases:BurstFraction must be more than 0 and at most 0.5.")]
    [InlineData(0.1, 0, "AiEdge:Redis:RateLimitLeases:Lifetime must be more than 0 and at most 00:10:00.")]
    public void Options_OutOfRange_FailAtStartupNamingTheKey(double fraction, int lifetimeMs, string failure)
    {
        var options = new RedisOptions();
        options.RateLimitLeases.BurstFraction = fraction;
        options.RateLimitLeases.Lifetime = TimeSpan.FromMilliseconds(lifetimeMs);

        var result = new RedisOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        Assert.Equal([failure], result.Failures);
    }

    private Task<TestApp> StartReplicaAsync(string tier, bool leases)
        => TestApp.StartAsync(
            static builder => builder.Services.AddAiEdgeCore(static edge => edge.AddRateLimiting().AddRedis()),
            app =>
            {
                app.UseAiEdge();
                app.MapGet("/leased", static () => "ok").WithRateLimitTier(tier);
            },
            new Dictionary<string, string?>
            {
                ["AiEdge:Redis:Configuration"] = redis.Configuration,
                ["AiEdge:Redis:CommandTimeout"] = "00:00:05",
                ["AiEdge:Redis:RateLimitLeases:Enabled"] = leases ? "true" : "false",
                ["AiEdge:Redis:RateLimitLeases:Lifetime"] = "00:10:00",
                ["AiEdge:RateLimiting:Tiers:" + tier + ":Rate"] = "1r/m",
                ["AiEdge:RateLimiting:Tiers:" + tier + ":Burst"] = "199",
            });
}
