using System.Net;
using AiEdge.Middleware.RateLimiting.Internal;
using AiEdge.Middleware.Testing;
using FsCheck;
using FsCheck.Fluent;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

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

        // 1r/m buckets stay active 62.5 s, longer than the 50 s of spraying: the table fills and stays full.
        Assert.Equal(1000, peak);
        Assert.Equal(49_000, store.TableFullRefusals);
    }

    [Fact]
    public void Expiry_ForgetsOnlyDrainedBuckets_OnTheScanTimer()
    {
        var time = new FakeTimeProvider(TestClock.Start);
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

public sealed class InMemoryRateLimitStoreTableTests
{
    private static (InMemoryRateLimitStore Store, RateLimitRule Rule) Create(int maxPartitions, string rate, int burst = 0)
    {
        var options = new RateLimitingOptions { ExpirationScanInterval = TimeSpan.Zero, MaxPartitions = maxPartitions };
        options.AddTier("t", t =>
        {
            t.Rate = rate;
            t.Burst = burst;
        });
        return (new InMemoryRateLimitStore(Options.Create(options), new FakeTimeProvider(TestClock.Start)), new TierRegistry(Options.Create(options)).All.Single().Default.Requests!);
    }

    private static RateLimitBatch Acquire(InMemoryRateLimitStore store, RateLimitRule rule, PartitionKey partition, long now)
    {
        var batch = new RateLimitBatch { NowMs = now };
        batch.Add(rule, partition, LeakyBucket.OneRequest);
        store.Acquire(batch);
        return batch;
    }

    private static PartitionKey Address(int i) => PartitionKey.FromAddress(new IPAddress(BitConverter.GetBytes(0x0B000000 + i)));

    [Fact]
    public void FullTable_HundredThousandNewPartitions_NeverResetAnExhaustedClient()
    {
        var (store, rule) = Create(1000, "1r/m");
        var client = PartitionKey.FromText("exhausted");
        const long Start = 1_000_000;
        Assert.True(Acquire(store, rule, client, Start).Admitted);
        Assert.False(Acquire(store, rule, client, Start).Admitted);

        var admitted = 0;
        var refused = 0;
        for (var i = 0; i < 100_000; i++)
        {
            var batch = Acquire(store, rule, Address(i), Start + 1 + i / 50);
            if (batch.Admitted)
            {
                admitted++;
            }
            else
            {
                Assert.True(batch.TableFull);
                Assert.InRange(batch.TableFullRetryAfterMs, 1, 62_500);
                refused++;
            }
        }

        // The client's bucket was never forgotten: 2 s later it is still exhausted, as it is until its bucket drains.
        var later = Acquire(store, rule, client, Start + 2_000);
        Assert.False(later.Admitted);
        Assert.False(later.TableFull);
        Assert.Equal(999, admitted);
        Assert.Equal(100_000 - 999, refused);
        Assert.Equal(refused, store.TableFullRefusals);
        Assert.Equal(1000, store.Count);

        // Amortized and bounded: one pass over the table, then refusals without scanning until a bucket can be idle.
        Assert.InRange(store.SweepExamined, 1000, 1000 + 2 * InMemoryRateLimitStore.SweepStep);

        Assert.False(Acquire(store, rule, client, Start + 62_499).Admitted);
        Assert.True(Acquire(store, rule, client, Start + 62_500).Admitted);
    }

    [Fact]
    public void FullTable_IdleBucketsAreForgottenToMakeRoom_LiveOnesKept()
    {
        var (store, rule) = Create(100, "10r/s", burst: 5);
        const long Start = 1_000_000;
        var live = PartitionKey.FromText("live");
        for (var i = 0; i < 6; i++)
        {
            Assert.True(Acquire(store, rule, live, Start + 100).Admitted);
        }

        for (var i = 0; i < 99; i++)
        {
            Assert.True(Acquire(store, rule, Address(i), Start).Admitted);
        }

        Assert.True(Acquire(store, rule, PartitionKey.FromText("early"), Start + 50).TableFull);

        // 10r/s: a bucket left at excess 0 is idle 100 ms later; the live one (excess 5) only after 600 ms.
        for (var i = 0; i < 99; i++)
        {
            var batch = Acquire(store, rule, PartitionKey.FromText("new" + i), Start + 100);
            Assert.True(batch.Admitted);
        }

        Assert.Equal(100, store.Count);
        Assert.False(Acquire(store, rule, live, Start + 100).Admitted);
    }

    [Fact]
    public void FullTable_WhenNothingIsIdle_RefusesUntilTheEarliestBucketCanBeIdle()
    {
        var (store, rule) = Create(10, "1r/s");
        for (var i = 0; i < 10; i++)
        {
            Assert.True(Acquire(store, rule, Address(i), 5_000 + i * 100).Admitted);
        }

        var refused = Acquire(store, rule, PartitionKey.FromText("new"), 5_500);

        // The first bucket (at 5,000 with excess 0) is idle at 6,000.
        Assert.True(refused.TableFull);
        Assert.Equal(500, refused.TableFullRetryAfterMs);
        Assert.True(Acquire(store, rule, PartitionKey.FromText("new"), 5_999).TableFull);
        Assert.True(Acquire(store, rule, PartitionKey.FromText("new"), 6_000).Admitted);
    }

    [Fact]
    public void FullTable_SeveralRulesAndTheSecondHasNoRoom_RefusesWithoutChargingTheFirst()
    {
        var options = new RateLimitingOptions { ExpirationScanInterval = TimeSpan.Zero, MaxPartitions = 1 };
        options.AddTier("a", t => t.Rate = "1r/m");
        options.AddTier("b", t => t.Rate = "1r/m");
        var rules = new TierRegistry(Options.Create(options)).All.Select(t => t.Default.Requests!).OrderBy(r => r.LockOrder).ToArray();
        var store = new InMemoryRateLimitStore(Options.Create(options), new FakeTimeProvider(TestClock.Start));
        var client = PartitionKey.FromText("c");

        var batch = new RateLimitBatch { NowMs = 1_000 };
        batch.Add(rules[0], client, LeakyBucket.OneRequest);
        batch.Add(rules[1], client, LeakyBucket.OneRequest);
        store.Acquire(batch);

        Assert.True(batch.TableFull);
        Assert.False(batch.Admitted);

        // The first rule's bucket was made for this batch and left empty: it is idle, so a later partition gets its place.
        Assert.True(Acquire(store, rules[1], PartitionKey.FromText("other"), 1_000).Admitted);
        Assert.Equal(1, store.Count);
    }

    [Fact]
    public async Task FullTable_TokensChargedAfterTheReservationWasForgotten_AreStillCharged()
    {
        var options = new RateLimitingOptions { ExpirationScanInterval = TimeSpan.Zero, MaxPartitions = 1 };
        options.AddTier("g", t => t.TokenBudget = new RateLimitTokenBudget { Tokens = 1000, Window = "1m" });
        var rule = new TierRegistry(Options.Create(options)).All.Single().Default.Tokens!;
        var store = new InMemoryRateLimitStore(Options.Create(options), new FakeTimeProvider(TestClock.Start));
        var client = PartitionKey.FromText("streaming");

        var reserve = new RateLimitBatch { NowMs = 0 };
        reserve.Add(rule, client, 10_000);
        store.Acquire(reserve);

        // The 10 tokens drain in 600 ms: a long response later, another partition takes the idle bucket's place.
        var other = new RateLimitBatch { NowMs = 60_000 };
        other.Add(rule, PartitionKey.FromText("other"), 1_000);
        store.Acquire(other);

        // The response used 510 tokens: the 500 more are charged even though the table is full.
        var remaining = await store.ReconcileAsync(rule, client, 500_000, 60_000, default);
        var next = new RateLimitBatch { NowMs = 60_000 };
        next.Add(rule, client, 600_000);
        store.Acquire(next);

        Assert.True(reserve.Admitted);
        Assert.True(other.Admitted);
        Assert.Equal(500, remaining);
        Assert.False(next.Admitted);
        Assert.False(next.TableFull);
    }

    [Fact]
    public async Task FullTable_ConcurrentNewPartitions_NeverExceedTheBound()
    {
        var (store, rule) = Create(500, "1r/m");
        var peak = 0;
        var tasks = Enumerable.Range(0, 8).Select(worker => Task.Factory.StartNew(
            () =>
            {
                for (var i = 0; i < 5_000; i++)
                {
                    Acquire(store, rule, Address(worker * 10_000 + i), 1_000 + i);
                    var count = store.Count;
                    int seen;
                    while (count > (seen = Volatile.Read(ref peak)) && Interlocked.CompareExchange(ref peak, count, seen) != seen)
                    {
                    }
                }
            },
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default)).ToArray();
        await Task.WhenAll(tasks).WaitAsync(TimeSpan.FromSeconds(60));

        Assert.InRange(peak, 1, 500);
        Assert.Equal(500, store.Count);
        Assert.Equal(8 * 5_000 - 500, store.TableFullRefusals);
    }
}
