using AiEdge.Middleware.RateLimiting.Internal;
using AiEdge.Middleware.Redis.Internal;
using AiEdge.Middleware.Testing;

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
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var decisions = new Task<(int Partition, bool Admitted)>[600];
        for (var i = 0; i < decisions.Length; i++)
        {
            var partition = i % partitions.Length;
            decisions[i] = Task.Run(async () =>
            {
                await start.Task;
                var batch = Batch(partitions[partition]);
                await store.AcquireAsync(batch, CancellationToken.None);
                return (partition, batch.Admitted);
            });
        }

        start.SetResult();
        var results = await Task.WhenAll(decisions).WaitAsync(Timeout);

        for (var p = 0; p < partitions.Length; p++)
        {
            Assert.Equal(50, results.Count(r => r.Partition == p && r.Admitted));
        }

        Assert.InRange(store.ScriptCalls, 1, decisions.Length - 1);
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

    private static PartitionKey NewPartition() => PartitionKey.FromText(Guid.NewGuid().ToString("n"));

    private static RateLimitBatch Batch(PartitionKey partition)
    {
        var batch = new RateLimitBatch { NowMs = Now };
        batch.Add(OnePerSecond, partition, 1000);
        return batch;
    }
}
