using AiEdge.Middleware.RateLimiting.Internal;
using FsCheck;
using FsCheck.Fluent;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace AiEdge.Middleware.RateLimiting.Tests;

/// <summary>
/// The same request timeline, sent to the NGINX model and to the in-memory store with the same rate, burst and
/// delay settings, is admitted, rejected and delayed the same, request by request.
/// </summary>
public sealed class NginxEquivalenceTests
{
    private const long Epoch = 1_000_000_000;

    public sealed record LimitSpec(int Count, bool PerMinute, int Burst, int? Delay)
    {
        public string Rate => Count + (PerMinute ? "r/m" : "r/s");
    }

    public sealed record Timeline(LimitSpec[] Limits, int[] Gaps);

    private static Gen<LimitSpec> LimitGen =>
        from count in Gen.Choose(1, 40)
        from perMinute in Gen.Frequency((4, Gen.Constant(false)), (1, Gen.Constant(true)))
        from burst in Gen.Choose(0, 25)
        from mode in Gen.Choose(0, 2)
        from delay in Gen.Choose(0, 25)
        select new LimitSpec(count, perMinute, burst, mode switch { 0 => null, 1 => 0, _ => Math.Min(delay, burst) });

    private static Gen<int> GapGen => Gen.Frequency(
        (5, Gen.Choose(0, 5)),
        (4, Gen.Choose(0, 200)),
        (2, Gen.Choose(0, 3000)),
        (1, Gen.Choose(0, 120_000)));

    private static Arbitrary<Timeline> Timelines(int maxLimits) => Arb.From(
        from limitCount in Gen.Choose(1, maxLimits)
        from limits in Gen.ArrayOf(LimitGen, limitCount)
        from gaps in Gen.ArrayOf(GapGen, 150)
        select new Timeline(limits, gaps));

    [Fact]
    public void OneLimit_RandomTimelines_DecideAsNginx()
        => Prop.ForAll(Timelines(1), SameDecisions).QuickCheckThrowOnFailure();

    [Fact]
    public void SeveralLimits_RandomTimelines_DecideAsNginx()
        => Prop.ForAll(Timelines(3), SameDecisions).QuickCheckThrowOnFailure();

    [Fact]
    public void ExpiryScans_BetweenRequests_ChangeNoDecision()
        => Prop.ForAll(Timelines(2), timeline =>
        {
            var zones = timeline.Limits.Select(l => new NginxLimitReqModel.Zone(l.Count, l.PerMinute)).ToArray();
            var limits = timeline.Limits.Select((l, i) => new NginxLimitReqModel.Limit(zones[i], l.Burst, l.Delay)).ToArray();
            var time = new FakeTimeProvider(AiEdge.Middleware.Testing.TestClock.Start);
            var (store, registry) = Create(time, timeline.Limits);
            foreach (var gap in timeline.Gaps)
            {
                time.Advance(TimeSpan.FromMilliseconds(gap));
                var now = RateLimitClock.NowMs(time);
                store.Sweep();
                var expected = NginxLimitReqModel.Handle(limits, "client", Epoch + now);
                var batch = Batch(registry, now);
                store.Acquire(batch);
                if (expected.Rejected == batch.Admitted)
                {
                    return false;
                }
            }

            return true;
        }).QuickCheckThrowOnFailure();

    [Theory]
    [InlineData("10r/s", 20, 21)]
    [InlineData("2r/s", 5, 6)]
    [InlineData("1r/m", 0, 1)]
    [InlineData("10r/s", 0, 1)]
    public void Burst_ClientAtRest_AdmitsOnePlusBurstAtOnce(string rate, int burst, int expected)
    {
        var (store, registry) = Create(new LimitSpec(int.Parse(rate[..rate.IndexOf('r')]), rate.EndsWith('m'), burst, null));
        var admitted = 0;
        for (var i = 0; i < 100; i++)
        {
            var batch = Batch(registry, Epoch);
            store.Acquire(batch);
            admitted += batch.Admitted ? 1 : 0;
        }

        Assert.Equal(expected, admitted);
    }

    [Fact]
    public void OneRequestPerMinute_UsesNginxIntegerRate_NextAdmittedAfter62500Ms()
    {
        // NGINX keeps 1r/m as 1000/60 = 16 milli-requests per second: the next request passes after 62.5 s, not 60 s.
        var (store, registry) = Create(new LimitSpec(1, true, 0, null));
        Assert.True(Decide(store, registry, Epoch).Admitted);

        var rejected = Decide(store, registry, Epoch + 62_499);
        Assert.False(rejected.Admitted);
        Assert.Equal(1, rejected.Results[0].RetryAfterMs);
        Assert.True(Decide(store, registry, Epoch + 62_500).Admitted);
    }

    private static bool SameDecisions(Timeline timeline)
    {
        var zones = timeline.Limits.Select(l => new NginxLimitReqModel.Zone(l.Count, l.PerMinute)).ToArray();
        var limits = timeline.Limits.Select((l, i) => new NginxLimitReqModel.Limit(zones[i], l.Burst, l.Delay)).ToArray();
        var (store, registry) = Create(timeline.Limits);
        var now = Epoch;
        foreach (var gap in timeline.Gaps)
        {
            now += gap;
            var expected = NginxLimitReqModel.Handle(limits, "client", now);
            var batch = Batch(registry, now);
            store.Acquire(batch);
            var delay = 0L;
            for (var i = 0; i < batch.Count; i++)
            {
                delay = Math.Max(delay, batch.Results[i].DelayMs);
            }

            if (expected.Rejected == batch.Admitted || (!expected.Rejected && expected.DelayMs != delay))
            {
                return false;
            }
        }

        return true;
    }

    internal static (InMemoryRateLimitStore Store, TierRegistry Registry) Create(params LimitSpec[] limits)
        => Create(TimeProvider.System, limits);

    internal static (InMemoryRateLimitStore Store, TierRegistry Registry) Create(TimeProvider time, params LimitSpec[] limits)
    {
        var options = new RateLimitingOptions { ExpirationScanInterval = TimeSpan.Zero };
        for (var i = 0; i < limits.Length; i++)
        {
            var spec = limits[i];
            options.AddTier("t" + i, tier =>
            {
                tier.Rate = spec.Rate;
                tier.Burst = spec.Burst;
                tier.Delay = spec.Delay;
            });
        }

        return (new InMemoryRateLimitStore(Options.Create(options), time), new TierRegistry(Options.Create(options)));
    }

    private static RateLimitBatch Batch(TierRegistry registry, long now)
    {
        var batch = new RateLimitBatch { NowMs = now };
        foreach (var tier in registry.All)
        {
            batch.Add(tier.Default.Requests!, PartitionKey.FromText("client"), LeakyBucket.OneRequest);
        }

        return batch;
    }

    private static RateLimitBatch Decide(InMemoryRateLimitStore store, TierRegistry registry, long now)
    {
        var batch = Batch(registry, now);
        store.Acquire(batch);
        return batch;
    }
}
