using System.Net;
using AiEdge.Middleware.RateLimiting.Internal;
using AiEdge.Middleware.Testing;
using FsCheck;
using FsCheck.Fluent;
using Microsoft.Extensions.Options;

namespace AiEdge.Middleware.RateLimiting.Tests;

public sealed class InMemoryRateLimitStoreTests
{
    private static (InMemoryRateLimitStore Store, TierRegistry Registry) Create(Action<RateLimitingOptions> configure, TimeProvider? time = null)
    {
        var options = new RateLimitingOptions { ExpirationScanInterval = TimeSpan.Zero };
        configure(options);
        return (new InMemoryRateLimitStore(Options.Create(options), time ?? TimeProvider.System), new TierRegistry(Options.Create(options)));
    }

    private static RateLimitBatch Acquire(InMemoryRateLimitStore store, RateLimitRule rule, PartitionKey partition, long now, long costMilli = LeakyBucket.OneRequest)
    {
        var batch = new RateLimitBatch { NowMs = now };
        batch.Add(rule, partition, costMilli);
        store.Acquire(batch);
        return batch;
    }

    [Fact]
    public void RetryAfter_IsExactlyTheTimeUntilTheNextAdmission()
    {
        var gen =
            from count in Gen.Choose(1, 50)
            from perMinute in Gen.Elements(false, true)
            from burst in Gen.Choose(0, 20)
            from gaps in Gen.ArrayOf(Gen.Choose(0, 400), 60)
            select (count, perMinute, burst, gaps);

        Prop.ForAll(Arb.From(gen), input =>
        {
            var (store, registry) = Create(o => o.AddTier("t", t =>
            {
                t.Rate = input.count + (input.perMinute ? "r/m" : "r/s");
                t.Burst = input.burst;
            }));
            var rule = registry.All.Single().Default.Requests!;
            var client = PartitionKey.FromText("c");
            var now = 1_000_000L;
            foreach (var gap in input.gaps)
            {
                now += gap;
                var batch = Acquire(store, rule, client, now);
                if (batch.Admitted)
                {
                    continue;
                }

                var wait = batch.Results[0].RetryAfterMs;
                if (wait < 1 || Acquire(store, rule, client, now + wait - 1).Admitted)
                {
                    return false;
                }

                if (!Acquire(store, rule, client, now + wait).Admitted)
                {
                    return false;
                }

                now += wait;
            }

            return true;
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public async Task Tokens_ReserveThenReconcile_GivesBackAndChargesTheDifference()
    {
        var (store, registry) = Create(o => o.AddTier("g", t => t.TokenBudget = new RateLimitTokenBudget { Tokens = 1000, Window = "1m" }));
        var rule = registry.All.Single().Default.Tokens!;
        var client = PartitionKey.FromText("c");

        var first = Acquire(store, rule, client, 0, 600_000);
        Assert.True(first.Admitted);
        Assert.Equal(400, first.Results[0].Remaining);
        Assert.False(Acquire(store, rule, client, 0, 500_000).Admitted);

        // Used 100 of the 600 reserved: 500 come back.
        Assert.Equal(900, await store.ReconcileAsync(rule, client, -500_000, 0, default));
        Assert.True(Acquire(store, rule, client, 0, 500_000).Admitted);

        // Used 700 of 500 reserved: 200 more are charged.
        Assert.Equal(200, await store.ReconcileAsync(rule, client, 200_000, 0, default));

        // 1000 tokens per minute refill continuously: 6 s later 100 more are available.
        var later = Acquire(store, rule, client, 6_000, 300_000);
        Assert.True(later.Admitted);
        Assert.Equal(0, later.Results[0].Remaining);
    }

    [Fact]
    public void Tokens_RejectedReservation_RetryAfterIsWhenItFits()
    {
        var (store, registry) = Create(o => o.AddTier("g", t => t.TokenBudget = new RateLimitTokenBudget { Tokens = 600, Window = "1m" }));
        var rule = registry.All.Single().Default.Tokens!;
        var client = PartitionKey.FromText("c");
        Assert.True(Acquire(store, rule, client, 0, 600_000).Admitted);

        var rejected = Acquire(store, rule, client, 0, 300_000);

        // 600 tokens a minute = 10 per second: 300 tokens take 30 s.
        Assert.False(rejected.Admitted);
        Assert.Equal(30_000, rejected.Results[0].RetryAfterMs);
        Assert.False(Acquire(store, rule, client, 29_999, 300_000).Admitted);
        Assert.True(Acquire(store, rule, client, 30_000, 300_000).Admitted);
    }

    [Fact]
    public void Acquire_IpPartitionAfterWarmUp_AllocatesNothing()
    {
        var (store, registry) = Create(o => o.AddTier("predict", t =>
        {
            t.Rate = "1000000r/s";
            t.Burst = 1000;
        }));
        var rule = registry.All.Single().Default.Requests!;
        var address = IPAddress.Parse("203.0.113.7");
        var batch = new RateLimitBatch();
        void Once(long now)
        {
            batch.Reset();
            batch.NowMs = now;
            batch.Add(rule, PartitionKey.FromAddress(address, 64), LeakyBucket.OneRequest);
            store.Acquire(batch);
        }

        for (var i = 0; i < 100; i++)
        {
            Once(i);
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 10_000; i++)
        {
            Once(100 + i);
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(batch.Admitted);
        // Bytes per call, rounded down: a one-off allocation of the runtime itself (tiered JIT) cannot fail it,
        // while any allocation per call (24 bytes at the least) does.
        Assert.Equal(0, allocated / 10_000);
    }

    [Fact]
    public void KeySpraying_HoldsAtMostMaxPartitionsBuckets()
    {
        var (store, registry) = Create(o =>
        {
            o.MaxPartitions = 1000;
            o.AddTier("t", t => t.Rate = "1r/m");
        });
        var rule = registry.All.Single().Default.Requests!;
        var peak = 0;
        for (var i = 0; i < 50_000; i++)
        {
            var address = new IPAddress(BitConverter.GetBytes(0x0A000000 + i));
            Acquire(store, rule, PartitionKey.FromAddress(address), i);
            peak = Math.Max(peak, store.Count);
        }

        Assert.InRange(peak, 900, 1000);
    }

    [Fact]
    public void Expiry_ForgetsOnlyDrainedBuckets_OnTheScanTimer()
    {
        var time = new ManualTimeProvider();
        var (store, registry) = Create(
            o =>
            {
                o.ExpirationScanInterval = TimeSpan.FromSeconds(10);
                o.AddTier("t", t =>
                {
                    t.Rate = "1r/s";
                    t.Burst = 30;
                });
            },
            time);
        var rule = registry.All.Single().Default.Requests!;
        var now = RateLimitClock.NowMs(time);
        Acquire(store, rule, PartitionKey.FromText("quiet"), now);
        for (var i = 0; i < 21; i++)
        {
            Acquire(store, rule, PartitionKey.FromText("busy"), now);
        }

        Assert.Equal(2, store.Count);

        // After 10 s the quiet client (excess 0) has drained; the busy one (excess 20) has not.
        time.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(1, store.Count);

        time.Advance(TimeSpan.FromSeconds(20));
        Assert.Equal(0, store.Count);
    }

    [Fact]
    public async Task Acquire_ThousandConcurrentCallers_AdmitExactlyTheBurst()
    {
        var (store, registry) = Create(o => o.AddTier("t", t =>
        {
            t.Rate = "1r/m";
            t.Burst = 99;
        }));
        var rule = registry.All.Single().Default.Requests!;
        var admitted = 0;
        using var start = new ManualResetEventSlim();
        var tasks = Enumerable.Range(0, 1000).Select(_ => Task.Factory.StartNew(
            () =>
            {
                start.Wait();
                if (Acquire(store, rule, PartitionKey.FromText("c"), 5).Admitted)
                {
                    Interlocked.Increment(ref admitted);
                }
            },
            TaskCreationOptions.LongRunning)).ToArray();
        start.Set();
        await Task.WhenAll(tasks).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(100, admitted);
    }

    [Fact]
    public async Task Tokens_ThousandConcurrentReservations_NeverOvershoot()
    {
        var (store, registry) = Create(o => o.AddTier("g", t => t.TokenBudget = new RateLimitTokenBudget { Tokens = 10_000, Window = "1d" }));
        var rule = registry.All.Single().Default.Tokens!;
        var admitted = 0;
        using var start = new ManualResetEventSlim();
        var tasks = Enumerable.Range(0, 1000).Select(_ => Task.Factory.StartNew(
            () =>
            {
                start.Wait();
                if (Acquire(store, rule, PartitionKey.FromText("c"), 0, 100_000).Admitted)
                {
                    Interlocked.Increment(ref admitted);
                }
            },
            TaskCreationOptions.LongRunning)).ToArray();
        start.Set();
        await Task.WhenAll(tasks).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(100, admitted);
        Assert.False(Acquire(store, rule, PartitionKey.FromText("c"), 0, 1000).Admitted);
    }

    [Fact]
    public void SeveralRules_OneRejects_NoneIsCharged()
    {
        var (store, registry) = Create(o =>
        {
            o.AddTier("a", t =>
            {
                t.Rate = "10r/s";
                t.Burst = 5;
            });
            o.AddTier("b", t => t.Rate = "1r/m");
        });
        var a = registry.All.Single(t => t.Name == "a").Default.Requests!;
        var b = registry.All.Single(t => t.Name == "b").Default.Requests!;
        var client = PartitionKey.FromText("c");
        RateLimitBatch Both()
        {
            var batch = new RateLimitBatch { NowMs = 0 };
            batch.Add(b, client, 1000);
            batch.Add(a, client, 1000);
            store.Acquire(batch);
            return batch;
        }

        Assert.True(Both().Admitted);
        for (var i = 0; i < 10; i++)
        {
            Assert.False(Both().Admitted);
        }

        // Tier a was charged once only: 5 more requests fit its burst of 5.
        var admittedByA = 0;
        for (var i = 0; i < 10; i++)
        {
            admittedByA += Acquire(store, a, client, 0).Admitted ? 1 : 0;
        }

        Assert.Equal(5, admittedByA);
    }
}
