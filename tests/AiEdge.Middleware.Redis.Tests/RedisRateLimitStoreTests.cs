using AiEdge.Middleware.RateLimiting;
using AiEdge.Middleware.Redis.Internal;
using AiEdge.Middleware.Testing;
using FsCheck;
using FsCheck.Fluent;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace AiEdge.Middleware.Redis.Tests;

public sealed class RedisRateLimitStoreTests(RedisServerFixture redis) : IClassFixture<RedisServerFixture>
{
    private static readonly TimeSpan Timeout = RedisTestConnections.Timeout;

    internal static InMemoryRateLimitStore InMemory()
        => new(Options.Create(new RateLimitingOptions { ExpirationScanInterval = TimeSpan.Zero }), new FakeTimeProvider(TestClock.Start));

    private static RateLimitRule Requests(long perSecond, long burst, long delay = long.MaxValue, string tier = "t", int lockOrder = 0)
        => new(tier, null, RateLimitUnit.Requests, perSecond * 1000, 1000, burst * 1000, delay == long.MaxValue ? long.MaxValue : delay * 1000, lockOrder, perSecond, 1);

    private static RateLimitRule Tokens(long perMinute, string tier = "t", int lockOrder = 1)
        => new(tier, null, RateLimitUnit.Tokens, perMinute * 1000, 60_000, perMinute * 1000, long.MaxValue, lockOrder, perMinute, 60);

    // A step: time moves by Dt ms (sometimes backwards), then one to four decisions issued back to back without
    // waiting (so they share script calls, in arrival order), each on one of two partitions with the requests rule
    // and optionally a token rule with a cost; or a token reconciliation.
    private sealed record Decision(int Partition, bool WithTokens, int CostTokens);

    private sealed record Step(int Dt, Decision[] Decisions, bool Reconcile, int Delta);

    private static readonly Gen<Decision> DecisionGen =
        from partition in Gen.Frequency((3, Gen.Constant(0)), (1, Gen.Constant(1)))
        from withTokens in ArbMap.Default.GeneratorFor<bool>()
        from cost in Gen.Choose(0, 300)
        select new Decision(partition, withTokens, cost);

    private static readonly Gen<Step> StepGen =
        from dt in Gen.Frequency((6, Gen.Choose(0, 400)), (2, Gen.Choose(400, 5000)), (1, Gen.Choose(-50, -1)))
        from decisions in Gen.Frequency((2, Gen.Constant(1)), (3, Gen.Choose(2, 4))).SelectMany(n => Gen.ArrayOf(DecisionGen, n))
        from reconcile in Gen.Frequency((5, Gen.Constant(false)), (1, Gen.Constant(true)))
        from delta in Gen.Choose(-300, 300)
        select new Step(dt, decisions, reconcile, delta);

    private static readonly Gen<(int Rate, int Burst, int Delay, int TokensPerMinute, Step[] Steps)> ScenarioGen =
        from rate in Gen.Choose(1, 50)
        from burst in Gen.Choose(0, 20)
        from delay in Gen.Frequency((2, Gen.Constant(-1)), (1, Gen.Choose(0, 20)))
        from tokens in Gen.Choose(100, 5000)
        from steps in Gen.Choose(1, 40).SelectMany(n => Gen.ArrayOf(StepGen, n))
        select (rate, burst, delay, tokens, steps);

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task AcquireAndReconcile_AnyTimeline_DecideExactlyAsTheInMemoryStore(bool coalesce)
    {
        // A generous command timeout: a busy test machine must not send a call to the local fallback (which would
        // decide its requests in whatever order their failures complete) and pass that off as the store's answer.
        await using var connection = await RedisTestConnections.ConnectAsync(redis.Configuration, o => o.CommandTimeout = Timeout);
        var shared = new RedisRateLimitStore(connection, InMemory(), new RedisOptions { CoalesceRateLimitDecisions = coalesce }, null);
        long decisions = 0;

        // The property blocks on each decision: run it on its own thread so it never starves the thread pool
        // the connection's reader loop runs on.
        await Task.Factory.StartNew(() => Prop.ForAll(Arb.From(ScenarioGen), scenario =>
        {
            var requests = Requests(scenario.Rate, scenario.Burst, scenario.Delay < 0 ? long.MaxValue : scenario.Delay);
            var tokens = Tokens(scenario.TokensPerMinute);
            var partitions = new[] { PartitionKey.FromText(Guid.NewGuid().ToString("n")), PartitionKey.FromText(Guid.NewGuid().ToString("n")) };
            var local = InMemory();
            long now = 1_000_000_000;
            foreach (var step in scenario.Steps)
            {
                now += step.Dt;
                shared.FixedNowMs = now;
                if (step.Reconcile)
                {
                    var expected = local.ReconcileAsync(tokens, partitions[0], step.Delta * 1000L, now, default).AsTask().Result;
                    var actual = shared.ReconcileAsync(tokens, partitions[0], step.Delta * 1000L, now, default).AsTask().WaitAsync(Timeout).Result;
                    if (expected != actual)
                    {
                        throw new InvalidOperationException($"Reconcile at {now}: expected {expected}, got {actual}.");
                    }

                    continue;
                }

                var count = step.Decisions.Length;
                var expectedBatches = new RateLimitBatch[count];
                var actualBatches = new RateLimitBatch[count];
                var pending = new Task[count];
                for (var i = 0; i < count; i++)
                {
                    var decision = step.Decisions[i];
                    expectedBatches[i] = Batch(now, requests, tokens, partitions[decision.Partition], decision);
                    actualBatches[i] = Batch(now, requests, tokens, partitions[decision.Partition], decision);
                    pending[i] = shared.AcquireAsync(actualBatches[i], default).AsTask();
                }

                decisions += count;
                for (var i = 0; i < count; i++)
                {
                    local.Acquire(expectedBatches[i]);
                    pending[i].WaitAsync(Timeout).Wait();
                    AssertSame(expectedBatches[i], actualBatches[i], now);
                }
            }

            return true;
        }).QuickCheckThrowOnFailure(), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).WaitAsync(TimeSpan.FromMinutes(1));

        // Decisions issued while a call was on its way went together in the next one (or, when coalescing is off,
        // each was its own call).
        if (coalesce)
        {
            Assert.InRange(shared.ScriptCalls, 1, decisions - 1);
        }
        else
        {
            Assert.Equal(decisions, shared.ScriptCalls);
        }
    }

    // The case the property found (replay (13810867766595782498,6784126811411720157,33)): 40 r/s with a burst of
    // 19, decisions issued back to back as the first script calls of a connection to a server that has not cached
    // the script yet, each its own call. They must be decided in the order they were issued, as the in-memory
    // store decides them: each sees what the one before it committed.
    [Fact]
    public async Task AcquireAsync_BackToBackOnAFreshConnectionBeforeTheScriptIsCached_DecidesInIssueOrder()
    {
        Assert.Contains("OK", await redis.CommandAsync("SCRIPT FLUSH"));
        await using var connection = await RedisTestConnections.ConnectAsync(redis.Configuration, o => o.CommandTimeout = Timeout);
        const long Now = 1_000_000_202;
        var store = new RedisRateLimitStore(connection, InMemory(), new RedisOptions { CoalesceRateLimitDecisions = false }, null) { FixedNowMs = Now };
        var local = InMemory();
        var requests = Requests(40, 19);
        var tokens = Tokens(2870);
        var partition = PartitionKey.FromText(Guid.NewGuid().ToString("n"));

        var decisions = Enumerable.Range(0, 24).Select(i => new Decision(0, i == 0, 233)).ToArray();
        var expected = decisions.Select(d => Batch(Now, requests, tokens, partition, d)).ToArray();
        var actual = decisions.Select(d => Batch(Now, requests, tokens, partition, d)).ToArray();
        var pending = actual.Select(batch => store.AcquireAsync(batch, default).AsTask()).ToArray();
        await Task.WhenAll(pending).WaitAsync(Timeout);

        Assert.Equal(decisions.Length, store.ScriptCalls);
        Assert.Equal((19, 25), (actual[0].Results[0].Remaining, actual[0].Results[0].NextMs));
        Assert.Equal((18, 25), (actual[1].Results[0].Remaining, actual[1].Results[0].NextMs));
        for (var i = 0; i < decisions.Length; i++)
        {
            local.Acquire(expected[i]);
            AssertSame(expected[i], actual[i], Now);
        }
    }

    private static RateLimitBatch Batch(long now, RateLimitRule requests, RateLimitRule tokens, PartitionKey partition, Decision decision)
    {
        var batch = new RateLimitBatch { NowMs = now };
        batch.Add(requests, partition, LeakyBucketOne);
        if (decision.WithTokens)
        {
            batch.Add(tokens, partition, decision.CostTokens * 1000L);
        }

        return batch;
    }

    private const long LeakyBucketOne = 1000;

    private static void AssertSame(RateLimitBatch expected, RateLimitBatch actual, long now)
    {
        if (expected.Admitted != actual.Admitted)
        {
            throw new InvalidOperationException($"At {now}: admitted {actual.Admitted}, expected {expected.Admitted}.");
        }

        for (var i = 0; i < expected.Count; i++)
        {
            var e = expected.Results[i];
            var a = actual.Results[i];
            if (e.Admitted != a.Admitted || e.DelayMs != a.DelayMs || e.RetryAfterMs != a.RetryAfterMs || e.Remaining != a.Remaining || e.NextMs != a.NextMs)
            {
                throw new InvalidOperationException(
                    $"At {now}, item {i}: expected (admitted {e.Admitted}, delay {e.DelayMs}, retry {e.RetryAfterMs}, remaining {e.Remaining}, next {e.NextMs}), " +
                    $"got (admitted {a.Admitted}, delay {a.DelayMs}, retry {a.RetryAfterMs}, remaining {a.Remaining}, next {a.NextMs}).");
            }
        }
    }

    // The call packs each item's cost into 64 bits: a token budget of ten million tokens a minute, charged five
    // million at a time (5e9 milli-tokens, past 32 bits), decides as in memory, in one call and across calls.
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task AcquireAsync_CostsBeyondThirtyTwoBits_DecideExactlyAsTheInMemoryStore(bool coalesce)
    {
        await using var connection = await RedisTestConnections.ConnectAsync(redis.Configuration, o => o.CommandTimeout = Timeout);
        var shared = new RedisRateLimitStore(connection, InMemory(), new RedisOptions { CoalesceRateLimitDecisions = coalesce }, null);
        var local = InMemory();
        var requests = Requests(1000, 1000);
        var tokens = Tokens(10_000_000);
        var partition = PartitionKey.FromText(Guid.NewGuid().ToString("n"));
        const long now = 1_000_000_000;
        shared.FixedNowMs = now;

        var decisions = new[] { new Decision(0, true, 5_000_000), new Decision(0, true, 4_999_999), new Decision(0, true, 2), new Decision(0, true, 1) };
        var expected = new RateLimitBatch[decisions.Length];
        var actual = new RateLimitBatch[decisions.Length];
        var pending = new Task[decisions.Length];
        for (var i = 0; i < decisions.Length; i++)
        {
            expected[i] = Batch(now, requests, tokens, partition, decisions[i]);
            actual[i] = Batch(now, requests, tokens, partition, decisions[i]);
            pending[i] = shared.AcquireAsync(actual[i], default).AsTask();
        }

        await Task.WhenAll(pending).WaitAsync(Timeout);
        for (var i = 0; i < decisions.Length; i++)
        {
            local.Acquire(expected[i]);
            AssertSame(expected[i], actual[i], now);
        }

        Assert.Equal([true, true, false, true], actual.Select(static b => b.Admitted));
        Assert.Equal(0, actual[3].Results[1].Remaining);
    }

    [Fact]
    public async Task AcquireAsync_ThousandConcurrentRequestsThroughTwoConnections_AdmitsExactlyTheBurst()
    {
        await using var first = await RedisTestConnections.ConnectAsync(redis.Configuration);
        await using var second = await RedisTestConnections.ConnectAsync(redis.Configuration);
        var stores = new[] { new RedisRateLimitStore(first, InMemory(), new RedisOptions(), null), new RedisRateLimitStore(second, InMemory(), new RedisOptions(), null) };

        // 1 request per minute with burst 49: whatever the timing, 50 are admitted within a test's run.
        var rule = new RateLimitRule("shared", null, RateLimitUnit.Requests, 1000, 60_000, 49_000, long.MaxValue, 0, 1, 60);
        var partition = PartitionKey.FromText(Guid.NewGuid().ToString("n"));
        var tasks = Enumerable.Range(0, 1000).Select(i => Task.Run(async () =>
        {
            var batch = new RateLimitBatch();
            batch.Add(rule, partition, 1000);
            await stores[i % 2].AcquireAsync(batch, default);
            return batch.Admitted;
        }));

        var admitted = (await Task.WhenAll(tasks).WaitAsync(Timeout)).Count(static a => a);

        Assert.Equal(50, admitted);
    }

    // A key must outlive its bucket's drain: expiring earlier would forget a live bucket and reset the client's quota.
    // unit 0: requests (NGINX's numerator per 1000 ms: 16 is 1r/m); 1: tokens. Enough requests to exhaust the bucket.
    [Theory]
    [InlineData(0, 16L, 1000L, 0L, 1000L, 2)]                 // 1r/m
    [InlineData(0, 16L, 1000L, 5L, 1000L, 7)]                 // 1r/m burst 5
    [InlineData(0, 10_000L, 1000L, 20L, 1000L, 22)]           // 10r/s burst 20
    [InlineData(0, 1000L, 3_600_000L, 2L, 1000L, 4)]          // 1r/h burst 2
    [InlineData(1, 1_000_000L, 60_000L, 1000L, 900_000L, 2)]  // 1,000 tokens a minute, 900 a request
    [InlineData(1, 50_000L, 86_400_000L, 50L, 50_000L, 2)]    // 50 tokens a day, all at once
    public async Task AcquireAsync_ExhaustedBucket_KeyLivesAtLeastUntilDrainedAndStaysExhausted(int unit, long numerator, long denominator, long capacity, long costMilli, int requests)
    {
        await using var connection = await RedisTestConnections.ConnectAsync(redis.Configuration, o => o.CommandTimeout = Timeout);
        const long Now = 2_000_000_000;
        var store = new RedisRateLimitStore(connection, InMemory(), new RedisOptions(), null) { FixedNowMs = Now };
        var rule = new RateLimitRule("drain", null, (RateLimitUnit)unit, numerator, denominator, capacity * 1000, long.MaxValue, 0, capacity + 1, 60);
        var partition = PartitionKey.FromText(Guid.NewGuid().ToString("n"));
        var key = store.Key(rule, partition);
        var decisions = new List<bool>();
        RateLimitBatch last = null!;
        for (var i = 0; i < requests; i++)
        {
            last = new RateLimitBatch { NowMs = Now };
            last.Add(rule, partition, costMilli);
            await store.AcquireAsync(last, default).AsTask().WaitAsync(Timeout);
            decisions.Add(last.Admitted);
        }

        var ttl = (await connection.ExecuteAsync("PTTL", key).WaitAsync(Timeout)).Integer;
        var hash = await connection.ExecuteAsync("HMGET", key, "e", "l").WaitAsync(Timeout);
        var state = new BucketState { ExcessMilli = long.Parse(hash.Items![0].ToString()!), LastMs = long.Parse(hash.Items![1].ToString()!), Exists = true };
        var drainMs = LeakyBucket.IdleAtMs(rule, state) - Now;

        Assert.Equal([.. Enumerable.Repeat(true, requests - 1), false], decisions);
        Assert.InRange(drainMs, 1, long.MaxValue);
        Assert.InRange(ttl, drainMs, drainMs + 1000);

        // Exhausted until the retry-after has drained, to the millisecond.
        var retryAfter = last.Results[0].RetryAfterMs;
        store.FixedNowMs = Now + retryAfter - 1;
        var early = new RateLimitBatch { NowMs = store.FixedNowMs.Value };
        early.Add(rule, partition, costMilli);
        await store.AcquireAsync(early, default).AsTask().WaitAsync(Timeout);
        store.FixedNowMs = Now + retryAfter;
        var drained = new RateLimitBatch { NowMs = store.FixedNowMs.Value };
        drained.Add(rule, partition, costMilli);
        await store.AcquireAsync(drained, default).AsTask().WaitAsync(Timeout);

        Assert.False(early.Admitted);
        Assert.True(drained.Admitted);
        Assert.InRange(retryAfter, 1, drainMs);
    }

    [Fact]
    public async Task ReconcileAsync_TokensAdded_KeyLivesAtLeastUntilDrained()
    {
        await using var connection = await RedisTestConnections.ConnectAsync(redis.Configuration, o => o.CommandTimeout = Timeout);
        const long Now = 2_000_000_000;
        var store = new RedisRateLimitStore(connection, InMemory(), new RedisOptions(), null) { FixedNowMs = Now };
        var rule = Tokens(600, tier: "drain-reconcile");
        var partition = PartitionKey.FromText(Guid.NewGuid().ToString("n"));
        var key = store.Key(rule, partition);
        var batch = new RateLimitBatch { NowMs = Now };
        batch.Add(rule, partition, 10_000);
        await store.AcquireAsync(batch, default).AsTask().WaitAsync(Timeout);

        // The response used 500 tokens more than reserved: 510 tokens at 10 a second drain in 51 s.
        await store.ReconcileAsync(rule, partition, 500_000, Now, default).AsTask().WaitAsync(Timeout);
        var ttl = (await connection.ExecuteAsync("PTTL", key).WaitAsync(Timeout)).Integer;

        Assert.True(batch.Admitted);
        Assert.InRange(ttl, 51_000, 52_000);
    }

    [Fact]
    public async Task AcquireAsync_Rejected_SetsNoStateAndAKeyThatExpires()
    {
        await using var connection = await RedisTestConnections.ConnectAsync(redis.Configuration);
        var store = new RedisRateLimitStore(connection, InMemory(), new RedisOptions(), null);
        var rule = Requests(1, 0, tier: "expiry");
        var partition = PartitionKey.FromText("ttl-" + Guid.NewGuid().ToString("n"));
        var key = store.Key(rule, partition);

        var batch = new RateLimitBatch();
        batch.Add(rule, partition, 1000);
        await store.AcquireAsync(batch, default);
        var ttl = await connection.ExecuteAsync("PTTL", key).WaitAsync(Timeout);

        Assert.True(batch.Admitted);
        Assert.Equal("aiedge:{rl}:expiry:id:" + partition.Text, key);
        Assert.InRange(ttl.Integer, 1, 2001);
    }

    [Fact]
    public async Task AcquireAsync_RedisUnreachable_DecidesLocallyAndCountsTheFallback()
    {
        await using var connection = RedisTestConnections.Create("127.0.0.1:1", o => o.ConnectTimeout = TimeSpan.FromMilliseconds(200));
        var store = new RedisRateLimitStore(connection, InMemory(), new RedisOptions(), null);
        var rule = Requests(1, 1);
        var partition = PartitionKey.FromText("local");

        var results = new List<bool>();
        for (var i = 0; i < 3; i++)
        {
            var batch = new RateLimitBatch { NowMs = 5 };
            batch.Add(rule, partition, 1000);
            await store.AcquireAsync(batch, default).AsTask().WaitAsync(Timeout);
            results.Add(batch.Admitted);
        }

        Assert.Equal([true, true, false], results);
    }

    [Fact]
    public async Task AcquireAsync_RedisUnreachableAndFailClosed_Throws()
    {
        await using var connection = RedisTestConnections.Create("127.0.0.1:1", o => o.ConnectTimeout = TimeSpan.FromMilliseconds(200));
        var store = new RedisRateLimitStore(connection, InMemory(), new RedisOptions { FailureMode = RedisFailureMode.FailClosed }, null);
        var batch = new RateLimitBatch();
        batch.Add(Requests(1, 1), PartitionKey.FromText("closed"), 1000);

        await Assert.ThrowsAsync<RedisConnectionException>(() => store.AcquireAsync(batch, default).AsTask().WaitAsync(Timeout));
    }
}
