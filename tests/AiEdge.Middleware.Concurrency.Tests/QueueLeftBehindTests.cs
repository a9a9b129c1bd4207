using AiEdge.Middleware.Concurrency.Internal;
using AiEdge.Middleware.Testing;
using Microsoft.Extensions.Time.Testing;

namespace AiEdge.Middleware.Concurrency.Tests;

/// <summary>
/// What a request that times out in the queue leaves behind (the queue its <c>Retry-After</c> is estimated from):
/// the waiters whose wait has not run out, however the timers of waiters that ran out at the same moment were ordered.
/// </summary>
public sealed class QueueLeftBehindTests
{
    private static readonly TimeSpan QueueTimeout = TimeSpan.FromSeconds(5);

    [Fact]
    public void WaitersWhoseTimeRunsOutTogether_AreNotLeftBehind_EvenBeforeTheirTimersFire()
    {
        var time = new FakeTimeProvider(TestClock.Start);
        var gate = NewGate(time);
        Enqueue(gate, time);
        Enqueue(gate, time);
        time.Advance(TimeSpan.FromSeconds(1));
        Enqueue(gate, time);

        // No timer has fired yet: three are queued, and every one of them still waits now.
        Assert.Equal(3, gate.Queued);
        Assert.Equal(3, gate.QueuedWaitingAt(time.GetTimestamp()));

        // At the first two's deadline, as the first of them leaves: the second ran out with it, only the third waits.
        var firstDeadline = time.GetTimestamp() + (4 * time.TimestampFrequency);
        Assert.Equal(1, gate.QueuedWaitingAt(firstDeadline));
        Assert.Equal(1, gate.QueuedWaitingAt(firstDeadline + (time.TimestampFrequency / 2)));
        Assert.Equal(0, gate.QueuedWaitingAt(firstDeadline + time.TimestampFrequency));
        Assert.Equal(3, gate.Queued);
    }

    [Fact]
    public void AWaiterThatLeft_IsNotCounted()
    {
        var time = new FakeTimeProvider(TestClock.Start);
        var gate = NewGate(time);
        var first = Enqueue(gate, time);
        Enqueue(gate, time);

        Assert.True(gate.Remove(first));

        Assert.Equal(1, gate.QueuedWaitingAt(time.GetTimestamp()));
    }

    private static ConcurrencyGate NewGate(FakeTimeProvider time)
    {
        var tier = new TierState(
            "generate",
            new ConcurrencyTier { Limit = 1, QueueLimit = 8, QueueTimeout = QueueTimeout },
            [],
            starvationLimit: 8,
            TimeSpan.FromSeconds(30),
            new InMemoryConcurrencyStore(time),
            time,
            static (_, _) => { });
        return tier.Shared!;
    }

    private static Waiter Enqueue(ConcurrencyGate gate, FakeTimeProvider time)
    {
        var waiter = new Waiter(gate, 0);
        Assert.True(gate.TryEnqueue(waiter, 8) >= 0);
        waiter.Start(time, QueueTimeout, CancellationToken.None);
        return waiter;
    }
}
