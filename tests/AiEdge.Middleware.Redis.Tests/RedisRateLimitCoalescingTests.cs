using System.Diagnostics.Metrics;
using AiEdge.Middleware.Caching.Internal;
using AiEdge.Middleware.Internal;
using AiEdge.Middleware.RateLimiting;
using AiEdge.Middleware.Redis.Internal;
using AiEdge.Middleware.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace AiEdge.Middleware.Redis.Tests;

/// <summary>
/// Decisions of concurrent requests share script calls: those that arrive while a call is on its way go together
/// in the next one, each still all-or-nothing, and a failed call sends every waiter to the failure mode.
/// </summary>
public sealed class RedisRateLimitCoalescingTests(RedisServerFixture redis) : IClassFixture<RedisServerFixture>
{
    private static readonly TimeSpan Timeout = RedisTestConnections.Timeout;
    private const long Now = 7_000_000_000;

    // 1 r/s with a burst of 49: with the clock frozen, each partition admits exactly 50.
    private static readonly RateLimitRule OnePerSecond = new("coalesce", null, RateLimitUnit.Requests, 1000, 1000, 49_000, long.MaxValue, 0, 1, 1);

    [Fact]
    public async Task ConcurrentDecisions_ShareCallsAndAdmitExactlyTheBurstOfEachPartition()
    {
        await using var connection = await RedisTestConnections.ConnectAsync(redis.Configuration);
        var store = new RedisRateLimitStore(connection, RedisRateLimitStoreTests.InMemory(), new RedisOptions(), null) { FixedNowMs = Now };
        var partitions = new[] { NewPartition(), NewPartition(), NewPartition() };

        var results = await DecideAllAtOnceAsync(store, partitions.Length, p => Batch(partitions[p]));

        for (var p = 0; p < partitions.Length; p++)
        {
            Assert.Equal(50, results.Count(r => r.Partition == p && r.Admitted));
        }

        Assert.InRange(store.ScriptCalls, 1, ConcurrentDecisions - 1);
    }

    [Fact]
    public async Task LoneDecisions_GoAtOnceOneCallEach()
    {
        await using var connection = await RedisTestConnections.ConnectAsync(redis.Configuration);
        var store = new RedisRateLimitStore(connection, RedisRateLimitStoreTests.InMemory(), new RedisOptions(), null) { FixedNowMs = Now };
        var partition = NewPartition();

        for (var i = 1; i <= 3; i++)
        {
            var batch = Batch(partition);
            await store.AcquireAsync(batch, CancellationToken.None).AsTask().WaitAsync(Timeout);

            Assert.True(batch.Admitted);
            Assert.Equal(50 - i, batch.Results[0].Remaining);
            Assert.Equal(i, store.ScriptCalls);
        }
    }

    [Fact]
    public async Task CoalescingOff_EveryDecisionIsItsOwnCall()
    {
        await using var connection = await RedisTestConnections.ConnectAsync(redis.Configuration);
        var store = new RedisRateLimitStore(connection, RedisRateLimitStoreTests.InMemory(), new RedisOptions { CoalesceRateLimitDecisions = false }, null) { FixedNowMs = Now };
        var partition = NewPartition();

        var decisions = new Task<bool>[60];
        for (var i = 0; i < decisions.Length; i++)
        {
            decisions[i] = Task.Run(async () =>
            {
                var batch = Batch(partition);
                await store.AcquireAsync(batch, CancellationToken.None);
                return batch.Admitted;
            });
        }

        var admitted = await Task.WhenAll(decisions).WaitAsync(Timeout);

        Assert.Equal(50, admitted.Count(a => a));
        Assert.Equal(decisions.Length, store.ScriptCalls);
    }

    [Theory]
    [InlineData(RedisFailureMode.FailOpen)]
    [InlineData(RedisFailureMode.FailClosed)]
    public async Task CallTimesOutWhileOthersWait_EveryWaiterFollowsTheFailureMode(RedisFailureMode mode)
    {
        // A server of its own: pausing it must not stall the other tests.
        await using var server = await RedisServerFixture.StartAsync();
        await using var connection = await RedisTestConnections.ConnectAsync(server.Configuration, o => o.CommandTimeout = TimeSpan.FromMilliseconds(300));
        var store = new RedisRateLimitStore(connection, RedisRateLimitStoreTests.InMemory(), new RedisOptions { FailureMode = mode }, null) { FixedNowMs = Now };
        var partition = NewPartition();
        Assert.Contains("OK", await server.CommandAsync("CLIENT PAUSE 2000 ALL"));

        var batches = new RateLimitBatch[40];
        var decisions = new Task[batches.Length];
        for (var i = 0; i < batches.Length; i++)
        {
            var batch = batches[i] = Batch(partition);
            decisions[i] = Task.Run(async () => await store.AcquireAsync(batch, CancellationToken.None));
        }

        var all = Task.WhenAll(decisions);
        await all.ContinueWith(static _ => { }, TaskScheduler.Default).WaitAsync(Timeout);

        if (mode == RedisFailureMode.FailOpen)
        {
            // Decided by the local store instead: the first 50 of a fresh partition are admitted.
            Assert.True(all.IsCompletedSuccessfully);
            Assert.All(batches, static b => Assert.True(b.Admitted));
        }
        else
        {
            Assert.All(decisions, static d => Assert.IsType<RedisConnectionException>(d.Exception?.InnerException));
        }

        Assert.InRange(store.ScriptCalls, 1, batches.Length - 1);
    }

    [Fact]
    public async Task CancelledWaiter_LeavesTheOthersDecided()
    {
        await using var connection = await RedisTestConnections.ConnectAsync(redis.Configuration);
        var store = new RedisRateLimitStore(connection, RedisRateLimitStoreTests.InMemory(), new RedisOptions(), null) { FixedNowMs = Now };
        var partition = NewPartition();
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();

        var gone = store.AcquireAsync(Batch(partition), cancelled.Token).AsTask();
        var others = new Task<bool>[20];
        for (var i = 0; i < others.Length; i++)
        {
            others[i] = Task.Run(async () =>
            {
                var batch = Batch(partition);
                await store.AcquireAsync(batch, CancellationToken.None);
                return batch.Admitted;
            });
        }

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => gone.WaitAsync(Timeout));
        Assert.All(await Task.WhenAll(others).WaitAsync(Timeout), Assert.True);
    }

    [Fact]
    public async Task ConcurrentTwoRuleDecisions_AdmitExactlyTheSharedBudget_AndChargeNothingForTheRejected()
    {
        await using var connection = await RedisTestConnections.ConnectAsync(redis.Configuration);
        var store = new RedisRateLimitStore(connection, RedisRateLimitStoreTests.InMemory(), new RedisOptions(), null) { FixedNowMs = Now };

        // Each request passes its partition's rule (50 each) and one rule shared by all (100 in total): whatever the
        // order, 100 are admitted, at most 50 per partition, and a rejected request charges neither bucket.
        var perPartition = new RateLimitRule("coalesce-own", null, RateLimitUnit.Requests, 1000, 1000, 49_000, long.MaxValue, 0, 1, 1);
        var global = new RateLimitRule("coalesce-all", null, RateLimitUnit.Requests, 1000, 1000, 99_000, long.MaxValue, 1, 1, 1);
        var everyone = NewPartition();
        var partitions = new[] { NewPartition(), NewPartition(), NewPartition() };

        var results = await DecideAllAtOnceAsync(store, partitions.Length, p =>
        {
            var batch = new RateLimitBatch { NowMs = Now };
            batch.Add(perPartition, partitions[p], 1000);
            batch.Add(global, everyone, 1000);
            return batch;
        });

        Assert.Equal(100, results.Count(r => r.Admitted));
        Assert.Equal(99_000, await ExcessAsync(connection, store.Key(global, everyone)));
        for (var p = 0; p < partitions.Length; p++)
        {
            var admitted = results.Count(r => r.Partition == p && r.Admitted);
            Assert.InRange(admitted, 1, 50);
            Assert.Equal((admitted - 1) * 1000L, await ExcessAsync(connection, store.Key(perPartition, partitions[p])));
        }

        Assert.InRange(store.ScriptCalls, 1, ConcurrentDecisions - 1);
    }

    [Fact]
    public async Task QueuedDecisionsOnMixedAndRepeatedKeys_GoInOneCall_DecidedInArrivalOrder()
    {
        // A server of its own, paused while the first decision's call is on its way so the others queue behind it.
        await using var server = await RedisServerFixture.StartAsync();
        await using var connection = await RedisTestConnections.ConnectAsync(server.Configuration, o => o.CommandTimeout = TimeSpan.FromSeconds(10));
        var store = new RedisRateLimitStore(connection, RedisRateLimitStoreTests.InMemory(), new RedisOptions(), null) { FixedNowMs = Now };
        var model = RedisRateLimitStoreTests.InMemory();
        var requests = new RateLimitRule("mixed-requests", null, RateLimitUnit.Requests, 1000, 1000, 2000, 1000, 0, 1, 1);
        var tokens = new RateLimitRule("mixed-tokens", null, RateLimitUnit.Tokens, 1000, 60_000, 500_000, long.MaxValue, 1, 500, 60);
        var partitions = new[] { NewPartition(), NewPartition(), NewPartition() };

        // (partition, token cost or -1 for none): repeated keys within the call, batches that reject on either rule.
        (int Partition, int Cost)[] plan = [(0, -1), (0, 200), (1, 100), (0, 250), (2, -1), (0, -1), (1, 450), (1, -1), (2, 100), (0, 10)];
        Assert.Contains("OK", await server.CommandAsync("CLIENT PAUSE 500 ALL"));
        var actual = new RateLimitBatch[plan.Length];
        var pending = new Task[plan.Length];
        for (var i = 0; i < plan.Length; i++)
        {
            actual[i] = TwoRuleBatch(requests, tokens, partitions[plan[i].Partition], plan[i].Cost);
            pending[i] = store.AcquireAsync(actual[i], CancellationToken.None).AsTask();
        }

        await Task.WhenAll(pending).WaitAsync(Timeout);

        Assert.Equal(2, store.ScriptCalls);
        var admitted = 0;
        for (var i = 0; i < plan.Length; i++)
        {
            var expected = TwoRuleBatch(requests, tokens, partitions[plan[i].Partition], plan[i].Cost);
            model.Acquire(expected);
            admitted += expected.Admitted ? 1 : 0;
            Assert.Equal(expected.Admitted, actual[i].Admitted);
            for (var item = 0; item < expected.Count; item++)
            {
                Assert.Equal(expected.Results[item], actual[i].Results[item]);
            }
        }

        // The plan is not trivial: some decisions were refused, on both rules.
        Assert.InRange(admitted, 1, plan.Length - 2);
    }

    [Theory]
    [InlineData(RedisFailureMode.FailOpen)]
    [InlineData(RedisFailureMode.FailClosed)]
    public async Task ConnectionKilledWhileACallIsOnItsWay_EveryWaiterFollowsTheFailureMode(RedisFailureMode mode)
    {
        await using var server = await RedisServerFixture.StartAsync();
        await using var connection = await RedisTestConnections.ConnectAsync(server.Configuration, o => o.CommandTimeout = TimeSpan.FromSeconds(30));
        using var fallbacks = new FallbackCounter();
        var store = new RedisRateLimitStore(connection, RedisRateLimitStoreTests.InMemory(), new RedisOptions { FailureMode = mode }, fallbacks.Metrics) { FixedNowMs = Now };
        var partition = NewPartition();
        Assert.Contains("OK", await server.CommandAsync("CLIENT PAUSE 20000 ALL"));

        var batches = new RateLimitBatch[40];
        var decisions = new Task[batches.Length];
        for (var i = 0; i < batches.Length; i++)
        {
            batches[i] = Batch(partition);
            decisions[i] = store.AcquireAsync(batches[i], CancellationToken.None).AsTask();
        }

        // The first call is on its way (Redis holds it), the other decisions wait for it; none is decided yet.
        Assert.Equal(1, store.ScriptCalls);
        Assert.DoesNotContain(decisions, static d => d.IsCompleted);
        server.Kill();

        var all = Task.WhenAll(decisions);
        await all.ContinueWith(static _ => { }, TaskScheduler.Default).WaitAsync(Timeout);

        if (mode == RedisFailureMode.FailOpen)
        {
            // Decided by the local store instead: the first 50 of a fresh partition are admitted.
            Assert.True(all.IsCompletedSuccessfully);
            Assert.All(batches, static b => Assert.True(b.Admitted));
            Assert.Equal(batches.Length, fallbacks.Count);
        }
        else
        {
            Assert.All(decisions, static d => Assert.IsType<RedisConnectionException>(d.Exception?.InnerException));
            Assert.Equal(0, fallbacks.Count);
        }
    }

    [Fact]
    public async Task WaitersCancelledInFlightAndWhileQueued_OthersDecided_QueuedOneNeverSent_BatchNotTouchedAfterwards()
    {
        await using var server = await RedisServerFixture.StartAsync();
        await using var connection = await RedisTestConnections.ConnectAsync(server.Configuration, o => o.CommandTimeout = TimeSpan.FromSeconds(10));
        var store = new RedisRateLimitStore(connection, RedisRateLimitStoreTests.InMemory(), new RedisOptions(), null) { FixedNowMs = Now };

        // Burst 4: five requests of the partition are admitted.
        var rule = new RateLimitRule("cancel", null, RateLimitUnit.Requests, 1000, 1000, 4000, long.MaxValue, 0, 1, 1);
        var partition = NewPartition();
        Assert.Contains("OK", await server.CommandAsync("CLIENT PAUSE 1000 ALL"));
        using var inFlightGone = new CancellationTokenSource();
        using var queuedGone = new CancellationTokenSource();

        var inFlightBatch = Single(rule, partition);
        var inFlight = store.AcquireAsync(inFlightBatch, inFlightGone.Token).AsTask();
        var queued = store.AcquireAsync(Single(rule, partition), queuedGone.Token).AsTask();
        var others = new RateLimitBatch[5];
        var pending = new Task[others.Length];
        for (var i = 0; i < others.Length; i++)
        {
            others[i] = Single(rule, partition);
            pending[i] = store.AcquireAsync(others[i], CancellationToken.None).AsTask();
        }

        inFlightGone.Cancel();
        queuedGone.Cancel();

        // Both callers are released at once, while Redis still holds the call.
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => inFlight.WaitAsync(Timeout));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => queued.WaitAsync(Timeout));
        Assert.DoesNotContain(pending, static p => p.IsCompleted);

        // The caller reuses its batch for something else: the late reply must not write into it.
        inFlightBatch.Reset();
        inFlightBatch.Add(rule, NewPartition(), 1000);
        inFlightBatch.Results[0].Remaining = -7;

        await Task.WhenAll(pending).WaitAsync(Timeout);

        // The in-flight decision was applied in Redis (it had been sent); the queued one was never sent.
        Assert.Equal([true, true, true, true, false], others.Select(static b => b.Admitted));
        Assert.Equal(2, store.ScriptCalls);
        Assert.False(inFlightBatch.Admitted);
        Assert.Equal(-7, inFlightBatch.Results[0].Remaining);
    }

    [Theory]
    [InlineData("203.0.113.7")]
    [InlineData("::ffff:198.51.100.1")]
    [InlineData("2001:db8::1")]
    [InlineData("::1")]
    [InlineData("::")]
    [InlineData(null)]
    public async Task Decision_WritesTheBucketUnderTheDocumentedKey(string? address)
    {
        await using var connection = await RedisTestConnections.ConnectAsync(redis.Configuration);
        var store = new RedisRateLimitStore(connection, RedisRateLimitStoreTests.InMemory(), new RedisOptions(), null) { FixedNowMs = Now };
        var rule = new RateLimitRule("keys-" + Guid.NewGuid().ToString("n"), null, RateLimitUnit.Requests, 1000, 1000, 0, long.MaxValue, 0, 1, 1);
        var partitions = new[]
        {
            PartitionKey.FromAddress(address is null ? null : System.Net.IPAddress.Parse(address)),
            PartitionKey.FromText("tenant-é/𝄞 " + Guid.NewGuid().ToString("n")),
        };

        foreach (var partition in partitions)
        {
            await store.AcquireAsync(Single(rule, partition), CancellationToken.None).AsTask().WaitAsync(Timeout);
            var exists = await connection.ExecuteAsync("EXISTS", store.Key(rule, partition)).WaitAsync(Timeout);

            Assert.Equal(1, exists.Integer);
        }
    }

    private static async Task<long> ExcessAsync(RedisConnection connection, string key)
    {
        var reply = await connection.ExecuteAsync("HGET", key, "e").WaitAsync(Timeout);
        Assert.False(reply.IsNull, "No bucket at " + key);
        return (long)reply;
    }

    private static RateLimitBatch Single(RateLimitRule rule, PartitionKey partition)
    {
        var batch = new RateLimitBatch { NowMs = Now };
        batch.Add(rule, partition, 1000);
        return batch;
    }

    private static RateLimitBatch TwoRuleBatch(RateLimitRule requests, RateLimitRule tokens, PartitionKey partition, int cost)
    {
        var batch = new RateLimitBatch { NowMs = Now };
        batch.Add(requests, partition, 1000);
        if (cost >= 0)
        {
            batch.Add(tokens, partition, cost * 1000L);
        }

        return batch;
    }

    /// <summary>Counts the <c>aiedge.redis.fallbacks</c> of one metrics instance.</summary>
    private sealed class FallbackCounter : IDisposable
    {
        private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        private readonly MeterListener _listener = new();
        private long _count;

        public FallbackCounter()
        {
            var factory = _services.GetRequiredService<IMeterFactory>();
            Metrics = new RedisMetrics(factory);
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Name == "aiedge.redis.fallbacks" && ReferenceEquals(instrument.Meter.Scope, factory))
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref _count, value));
            _listener.Start();
        }

        public RedisMetrics Metrics { get; }

        public long Count => Interlocked.Read(ref _count);

        public void Dispose()
        {
            _listener.Dispose();
            _services.Dispose();
        }
    }

    private static PartitionKey NewPartition() => PartitionKey.FromText(Guid.NewGuid().ToString("n"));

    private static RateLimitBatch Batch(PartitionKey partition)
    {
        var batch = new RateLimitBatch { NowMs = Now };
        batch.Add(OnePerSecond, partition, 1000);
        return batch;
    }

    private const int ConcurrentDecisions = 600;

    /// <summary>
    /// Releases <see cref="ConcurrentDecisions"/> decisions at once from the thread pool, the i-th on the batch
    /// <paramref name="batchFor"/> makes for partition i modulo <paramref name="partitions"/>; returns each one's
    /// partition and admission.
    /// </summary>
    private static async Task<(int Partition, bool Admitted)[]> DecideAllAtOnceAsync(RedisRateLimitStore store, int partitions, Func<int, RateLimitBatch> batchFor)
    {
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var decisions = new Task<(int Partition, bool Admitted)>[ConcurrentDecisions];
        for (var i = 0; i < decisions.Length; i++)
        {
            var partition = i % partitions;
            decisions[i] = Task.Run(async () =>
            {
                await start.Task;
                var batch = batchFor(partition);
                await store.AcquireAsync(batch, CancellationToken.None);
                return (partition, batch.Admitted);
            });
        }

        start.SetResult();
        return await Task.WhenAll(decisions).WaitAsync(Timeout);
    }
}
