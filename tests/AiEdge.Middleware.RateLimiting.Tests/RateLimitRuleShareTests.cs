using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using AiEdge.Middleware.Testing;

namespace AiEdge.Middleware.RateLimiting.Tests;

public sealed class RateLimitRuleShareTests
{
    private static RateLimitRule Rule(long numerator, long denominator, long capacityMilli, long delayMilli = long.MaxValue, RateLimitUnit unit = RateLimitUnit.Requests)
        => new("predict", "pro", unit, numerator, denominator, capacityMilli, delayMilli, lockOrder: 3, quota: 100, windowSeconds: 60);

    [Theory]
    // numerator, denominator, capacity, delay, replicas -> denominator, capacity, delay
    [InlineData(1000, 1000, 99_000, long.MaxValue, 2, 2000, 49_500, long.MaxValue)] // 1r/s burst 99: 0.5r/s, 49.5
    [InlineData(1000, 1000, 99_000, long.MaxValue, 3, 3000, 33_000, long.MaxValue)]
    [InlineData(16, 1000, 4_000, 2_000, 5, 5000, 1_000, 400)]                      // burst 4 over 5: at least one request
    [InlineData(1000, 1000, 500, long.MaxValue, 2, 2000, 500, long.MaxValue)]        // a capacity under one unit stays whole
    [InlineData(1000, 1000, 0, long.MaxValue, 3, 3000, 0, long.MaxValue)]            // burst 0 stays 0
    [InlineData(1000, 1000, 10_001, 9_999, 4, 4000, 2_500, 2_499)]                  // rounded down to the milli-unit
    public void Share_DividesRateExactlyAndCapacityRoundingDown(long numerator, long denominator, long capacity, long delay, int replicas, long expectedDenominator, long expectedCapacity, long expectedDelay)
    {
        var rule = Rule(numerator, denominator, capacity, delay);

        var share = rule.Share(replicas);

        Assert.Equal(numerator, share.RateNumerator);
        Assert.Equal(expectedDenominator, share.RateDenominator);
        Assert.Equal(expectedCapacity, share.CapacityMilli);
        Assert.Equal(expectedDelay, share.DelayMilli);
        Assert.Equal((rule.TierName, rule.PlanName, rule.Unit, rule.LockOrder, rule.StoreKey, rule.Quota, rule.WindowSeconds), (share.TierName, share.PlanName, share.Unit, share.LockOrder, share.StoreKey, share.Quota, share.WindowSeconds));
    }

    [Fact]
    public void Share_OfOneReplica_IsTheRuleItself_AndZeroIsRefused()
    {
        var rule = Rule(1000, 1000, 5000);

        Assert.Same(rule, rule.Share(1));
        Assert.Throws<ArgumentOutOfRangeException>(() => rule.Share(0));
    }

    public static TheoryData<int, long, long, int> Fleets()
    {
        var data = new TheoryData<int, long, long, int>();
        foreach (var replicas in new[] { 2, 3, 5 })
        {
            foreach (var burst in new[] { 0, 1, 4, 9, 99 })
            {
                data.Add(replicas, 1000, burst, 1000);    // 1r/s, greedy every second
                data.Add(replicas, 10_000, burst, 37);    // 10r/s, greedy every 37 ms
                data.Add(replicas, 16, burst, 250);       // 1r/m (NGINX's 16 milli per ms / 1000), every 250 ms
            }
        }

        return data;
    }

    /// <summary>
    /// The bound <see cref="RateLimitRule.Share"/> documents: replicas that each decide on their share, with clients that
    /// take everything each of them admits, admit over a minute at most <c>n - 1 + max(0, n - burst)</c> more than the
    /// shared limit (<c>1 + burst + rate * t</c>), and hardly fewer than one bucket of the shared rule admits.
    /// </summary>
    [Theory]
    [MemberData(nameof(Fleets))]
    public void Share_FleetOfGreedyReplicas_StaysWithinTheBoundOfTheSharedLimit(int replicas, long numerator, long burst, int stepMs)
    {
        var rule = Rule(numerator, 1000, burst * LeakyBucket.OneRequest);
        var share = rule.Share(replicas);
        var client = PartitionKey.FromText("fleet");
        var shared = Store();
        var fleet = new InMemoryRateLimitStore[replicas];
        for (var i = 0; i < replicas; i++)
        {
            fleet[i] = Store();
        }

        long sharedAdmitted = 0, fleetAdmitted = 0;
        for (long now = 0; now <= 60_000; now += stepMs)
        {
            sharedAdmitted += Greedy(shared, rule, client, now);
            foreach (var replica in fleet)
            {
                fleetAdmitted += Greedy(replica, share, client, now);
            }
        }

        // The shared limit over the minute: the first request, the burst, and what the rate drains.
        var limit = 1 + burst + (numerator * 60_000 / 1000 / LeakyBucket.OneRequest);
        var bound = replicas - 1 + Math.Max(0, replicas - burst);
        Assert.True(fleetAdmitted <= limit + bound, $"{replicas} replicas admitted {fleetAdmitted}; the shared limit {limit}, bound +{bound}.");
        Assert.True(fleetAdmitted >= sharedAdmitted - replicas, $"{replicas} replicas admitted {fleetAdmitted}; the shared limit {sharedAdmitted}.");
    }

    private static InMemoryRateLimitStore Store()
        => new(Options.Create(new RateLimitingOptions { ExpirationScanInterval = TimeSpan.Zero }), new FakeTimeProvider(TestClock.Start));

    private static int Greedy(InMemoryRateLimitStore store, RateLimitRule rule, PartitionKey client, long now)
    {
        var admitted = 0;
        var batch = new RateLimitBatch();
        while (true)
        {
            batch.Reset();
            batch.NowMs = now;
            batch.Add(rule, client, LeakyBucket.OneRequest);
            store.Acquire(batch);
            if (!batch.Admitted)
            {
                return admitted;
            }

            admitted++;
        }
    }
}
