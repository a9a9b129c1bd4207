namespace AiEdge.Middleware.Core.Tests;

public sealed class AiEdgeDecisionsFeatureTests
{
    [Fact]
    public void Set_LastValueOfANameWins_AndOtherNamesKeepTheirs()
    {
        var decisions = new AiEdgeDecisionsFeature();
        decisions.Set(AiEdgeDiagnostics.Tags.Tier, "free");
        decisions.Set(AiEdgeDiagnostics.Tags.CacheStatus, "miss");
        decisions.Set(AiEdgeDiagnostics.Tags.Tier, "predict");

        Assert.Equal("predict", decisions.Get(AiEdgeDiagnostics.Tags.Tier));
        Assert.Equal("miss", decisions.Get(AiEdgeDiagnostics.Tags.CacheStatus));
        Assert.Null(decisions.Get(AiEdgeDiagnostics.Tags.RateLimitDecision));
    }

    [Fact]
    public void Add_SumsPerName_AndTellsNothingAddedFromZero()
    {
        var decisions = new AiEdgeDecisionsFeature();
        Assert.False(decisions.TryGetTotal(AiEdgeDecisionsFeature.BackendSeconds, out var none));
        Assert.Equal(0, none);

        decisions.Add(AiEdgeDecisionsFeature.BackendSeconds, 0.1);
        decisions.Add(AiEdgeDecisionsFeature.BackendSeconds, 0.2);
        decisions.Add("aiedge.other.seconds", 0);

        Assert.True(decisions.TryGetTotal(AiEdgeDecisionsFeature.BackendSeconds, out var total));
        Assert.Equal(0.3, total, 9);
        Assert.True(decisions.TryGetTotal("aiedge.other.seconds", out var zero));
        Assert.Equal(0, zero);
    }

    [Fact]
    public void NamesOfANewConcern_BeyondTheInitialCapacity_AreKept()
    {
        var decisions = new AiEdgeDecisionsFeature();
        for (var i = 0; i < 20; i++)
        {
            decisions.Set("aiedge.custom." + i, "v" + i);
            decisions.Add("aiedge.custom.n" + i, i);
        }

        for (var i = 0; i < 20; i++)
        {
            Assert.Equal("v" + i, decisions.Get("aiedge.custom." + i));
            Assert.True(decisions.TryGetTotal("aiedge.custom.n" + i, out var n));
            Assert.Equal(i, n);
        }
    }

    [Fact]
    public void Reset_ForgetsEverything()
    {
        var decisions = new AiEdgeDecisionsFeature();
        decisions.Set(AiEdgeDiagnostics.Tags.CacheStatus, "hit");
        decisions.Add(AiEdgeDecisionsFeature.BackendSeconds, 1);

        decisions.Reset();

        Assert.Null(decisions.Get(AiEdgeDiagnostics.Tags.CacheStatus));
        Assert.False(decisions.TryGetTotal(AiEdgeDecisionsFeature.BackendSeconds, out _));
    }

    [Fact]
    public void Recording_Warm_AllocatesNothing()
    {
        var decisions = new AiEdgeDecisionsFeature();
        Record(decisions);
        decisions.Reset();

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 100; i++)
        {
            Record(decisions);
            decisions.Reset();
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);

        static void Record(AiEdgeDecisionsFeature decisions)
        {
            decisions.Set(AiEdgeDiagnostics.Tags.Tier, "predict");
            decisions.Set(AiEdgeDiagnostics.Tags.RateLimitDecision, "admitted");
            decisions.Set(AiEdgeDiagnostics.Tags.CacheStatus, "miss");
            decisions.Add(AiEdgeDecisionsFeature.BackendSeconds, 0.25);
            _ = decisions.Get(AiEdgeDiagnostics.Tags.CacheStatus);
            _ = decisions.TryGetTotal(AiEdgeDecisionsFeature.BackendSeconds, out _);
        }
    }
}
