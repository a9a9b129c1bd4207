using AiEdge.Middleware.Resilience.Internal;
using AiEdge.Middleware.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace AiEdge.Middleware.Resilience.Tests;

public sealed class BackendPoolTests
{
    private static BackendPool Pool(BackendSelection selection, params int[] weights)
    {
        var options = new ResilienceOptions();
        var backend = new BackendOptions { Selection = selection };
        for (var i = 0; i < weights.Length; i++)
        {
            backend.Replicas.Add(new BackendReplicaOptions { Url = "http://r" + i + ":8000/", Weight = weights[i] });
        }

        options.Backends["m"] = backend;
        return new BreakerRegistry(Options.Create(options), new FakeTimeProvider(TestClock.Start), TestMetrics.Create(), NullLoggerFactory.Instance).GetPool("m");
    }

    [Theory]
    [InlineData(BackendSelection.LeastOutstanding)]
    [InlineData(BackendSelection.PowerOfTwoChoices)]
    public void Select_SkipsRefusedReplicas_AndReportsNoneWhenAllAreRefused(BackendSelection selection)
    {
        var pool = Pool(selection, 1, 1, 1);

        for (var i = 0; i < 50; i++)
        {
            Assert.Equal(1, pool.Select(refused: 0b101, tried: 0));
        }

        Assert.Equal(-1, pool.Select(refused: 0b111, tried: 0));
    }

    [Theory]
    [InlineData(BackendSelection.LeastOutstanding)]
    [InlineData(BackendSelection.PowerOfTwoChoices)]
    public void Select_PrefersReplicasNotTriedYet(BackendSelection selection)
    {
        var pool = Pool(selection, 5, 1);

        for (var i = 0; i < 50; i++)
        {
            Assert.Equal(1, pool.Select(refused: 0, tried: 0b01));
        }

        Assert.InRange(pool.Select(refused: 0, tried: 0b11), 0, 1);
    }

    [Fact]
    public void LeastOutstanding_PicksLowestLoadPerWeight()
    {
        var pool = Pool(BackendSelection.LeastOutstanding, 4, 1);
        for (var i = 0; i < 4; i++)
        {
            pool.Replicas[0].Enter();
        }

        // 4 in flight / weight 4 = 1 against 0 / 1 = 0: the light replica.
        Assert.Equal(1, pool.Select(0, 0));
        pool.Replicas[1].Enter();
        pool.Replicas[1].Enter();

        // 1 against 2: the heavy one.
        Assert.Equal(0, pool.Select(0, 0));
    }

    [Fact]
    public void PowerOfTwoChoices_NeverPicksTheBusierOfTwoReplicas()
    {
        var pool = Pool(BackendSelection.PowerOfTwoChoices, 1, 1);
        pool.Replicas[0].Enter();

        for (var i = 0; i < 50; i++)
        {
            Assert.Equal(1, pool.Select(0, 0));
        }
    }

    [Fact]
    public void Unavailable_RetryAfterIsAtLeastOneSecond()
    {
        Assert.Equal(1, BackendProblemResponse.ToRetryAfterSeconds(TimeSpan.Zero));
        Assert.Equal(1, BackendProblemResponse.ToRetryAfterSeconds(TimeSpan.FromMilliseconds(1)));
        Assert.Equal(2, BackendProblemResponse.ToRetryAfterSeconds(TimeSpan.FromSeconds(1.01)));
        Assert.Equal(30, BackendProblemResponse.ToRetryAfterSeconds(TimeSpan.FromSeconds(30)));
    }
}
