using AiEdge.Middleware.Streaming.Internal;
using AiEdge.Middleware.Testing;

namespace AiEdge.Middleware.Streaming.Tests;

/// <summary>The heartbeat scheduler alone: when it asks for a heartbeat, and who releases its timer, on the fake clock.</summary>
public sealed class HeartbeatSchedulerTests
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(15);

    [Fact]
    public void Silence_AsksExactlyAfterInterval()
    {
        var time = new TimerCountingTimeProvider();
        var target = new Target(HeartbeatAttempt.NotNow);
        using var scheduler = new HeartbeatScheduler(time, Interval, target, time.GetTimestamp());

        time.Advance(Interval - TimeSpan.FromTicks(1));
        Assert.Equal(0, target.Asked);
        time.Advance(TimeSpan.FromTicks(1));
        Assert.Equal(1, target.Asked);
    }

    [Fact]
    public void OutputMeanwhile_AsksAnIntervalAfterTheOutput()
    {
        var time = new TimerCountingTimeProvider();
        var target = new Target(HeartbeatAttempt.NotNow);
        using var scheduler = new HeartbeatScheduler(time, Interval, target, time.GetTimestamp());

        time.Advance(TimeSpan.FromSeconds(10));
        scheduler.OutputAt(time.GetTimestamp());
        time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(0, target.Asked);
        time.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(1, target.Asked);
    }

    [Theory]
    [InlineData(false, 1)]
    [InlineData(true, 0)]
    public void Answer_DecidesWhetherTimerStays(bool closed, int liveTimers)
    {
        var time = new TimerCountingTimeProvider();
        var target = new Target(closed ? HeartbeatAttempt.Closed : HeartbeatAttempt.NotNow);
        using var scheduler = new HeartbeatScheduler(time, Interval, target, time.GetTimestamp());

        time.Advance(Interval);
        Assert.Equal(liveTimers, time.LiveTimers);
        time.Advance(Interval);
        Assert.Equal(liveTimers == 1 ? 2 : 1, target.Asked);
    }

    [Fact]
    public void DisposedWhileArmed_TimerReleasedAtOnce()
    {
        var time = new TimerCountingTimeProvider();
        var target = new Target(HeartbeatAttempt.NotNow);
        var scheduler = new HeartbeatScheduler(time, Interval, target, time.GetTimestamp());
        Assert.Equal(1, time.LiveTimers);

        scheduler.Dispose();
        scheduler.Dispose();
        Assert.Equal(0, time.LiveTimers);
        Assert.True(scheduler.IsStopped);
        time.Advance(Interval * 4);
        Assert.Equal(0, target.Asked);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void DisposedWhileHeartbeatBeingWritten_WriterReleasesTimer(bool writeFailed)
    {
        var time = new TimerCountingTimeProvider();
        var target = new Target(HeartbeatAttempt.Writing);
        var scheduler = new HeartbeatScheduler(time, Interval, target, time.GetTimestamp());
        time.Advance(Interval);
        Assert.Equal(1, target.Asked);

        // The stream ends while the heartbeat is on its way: the timer belongs to the write until it is done.
        scheduler.Dispose();
        Assert.Equal(1, time.LiveTimers);
        scheduler.HeartbeatWritten(writeFailed);
        Assert.Equal(0, time.LiveTimers);
        time.Advance(Interval * 4);
        Assert.Equal(1, target.Asked);
    }

    [Fact]
    public void HeartbeatWritten_NextAfterAnotherInterval()
    {
        var time = new TimerCountingTimeProvider();
        var target = new Target(HeartbeatAttempt.Writing);
        using var scheduler = new HeartbeatScheduler(time, Interval, target, time.GetTimestamp());
        time.Advance(Interval);
        scheduler.OutputAt(time.GetTimestamp());
        scheduler.HeartbeatWritten(stop: false);

        time.Advance(Interval - TimeSpan.FromTicks(1));
        Assert.Equal(1, target.Asked);
        time.Advance(TimeSpan.FromTicks(1));
        Assert.Equal(2, target.Asked);
    }

    [Fact]
    public void HeartbeatWriteFailed_NoMoreHeartbeats()
    {
        var time = new TimerCountingTimeProvider();
        var target = new Target(HeartbeatAttempt.Writing);
        using var scheduler = new HeartbeatScheduler(time, Interval, target, time.GetTimestamp());
        time.Advance(Interval);
        scheduler.HeartbeatWritten(stop: true);

        Assert.Equal(0, time.LiveTimers);
        time.Advance(Interval * 4);
        Assert.Equal(1, target.Asked);
    }

    private sealed class Target(HeartbeatAttempt answer) : IHeartbeatTarget
    {
        public int Asked { get; private set; }

        public HeartbeatAttempt TryWriteHeartbeat()
        {
            Asked++;
            return answer;
        }
    }
}
