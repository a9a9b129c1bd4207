using AiEdge.Middleware.RateLimiting.Internal;
using FsCheck;
using FsCheck.Fluent;

namespace AiEdge.Middleware.RateLimiting.Tests;

public sealed class LeakyBucketTests
{
    private static RateLimitRule Requests(long numerator, long denominator, long burst)
        => new("t", null, RateLimitUnit.Requests, numerator, denominator, burst * LeakyBucket.OneRequest, long.MaxValue, 0, burst + 1, 1);

    private static RateLimitRule Tokens(long tokens, long windowSeconds)
        => new("t", null, RateLimitUnit.Tokens, tokens * 1000, windowSeconds * 1000, tokens * LeakyBucket.OneRequest, long.MaxValue, 1, tokens, windowSeconds);

    /// <summary>How many requests a bucket admits back to back at <paramref name="nowMs"/>.</summary>
    private static long AvailableRequests(RateLimitRule rule, BucketState state, long nowMs)
    {
        long admitted = 0;
        while (admitted <= rule.CapacityMilli / LeakyBucket.OneRequest + 1)
        {
            var next = LeakyBucket.Evaluate(rule, state, LeakyBucket.OneRequest, nowMs, out var result);
            if (!result.Admitted)
            {
                break;
            }

            LeakyBucket.Commit(ref state, next, nowMs);
            admitted++;
        }

        return admitted;
    }

    private static long AvailableTokens(RateLimitRule rule, BucketState state, long nowMs)
    {
        LeakyBucket.Evaluate(rule, state, 0, nowMs, out var result);
        return result.Remaining;
    }

    [Fact]
    public void NextMs_Requests_IsExactlyWhenMoreThanRemainingBecomesAvailable()
    {
        var gen =
            from numerator in Gen.Elements(16L, 100L, 1000L, 3000L, 50_000L)
            from burst in Gen.Choose(0, 12)
            from gaps in Gen.ArrayOf(Gen.Choose(0, 900), 30)
            select (numerator, burst, gaps);

        Prop.ForAll(Arb.From(gen), input =>
        {
            var rule = Requests(input.numerator, 1000, input.burst);
            var state = default(BucketState);
            var now = 1_000_000L;
            foreach (var gap in input.gaps)
            {
                now += gap;
                var next = LeakyBucket.Evaluate(rule, state, LeakyBucket.OneRequest, now, out var result);
                if (result.Admitted)
                {
                    LeakyBucket.Commit(ref state, next, now);
                }

                var remaining = result.Admitted ? result.Remaining : 0;
                if (result.NextMs < 1
                    || AvailableRequests(rule, state, now + result.NextMs - 1) != remaining
                    || AvailableRequests(rule, state, now + result.NextMs) != remaining + 1)
                {
                    return false;
                }
            }

            return true;
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void NextMs_Tokens_IsExactlyWhenMoreThanRemainingBecomesAvailable()
    {
        var gen =
            from tokens in Gen.Choose(1, 5000)
            from window in Gen.Elements(1L, 60L, 3600L, 86_400L)
            from steps in Gen.ArrayOf(Gen.Zip(Gen.Choose(0, 5000), Gen.Choose(0, 6000)), 20)
            select (tokens, window, steps);

        Prop.ForAll(Arb.From(gen), input =>
        {
            var rule = Tokens(input.tokens, input.window);
            var state = default(BucketState);
            var now = 1_000_000L;
            foreach (var (gap, cost) in input.steps)
            {
                now += gap;
                var costMilli = Math.Min(cost * 1000L, rule.CapacityMilli);
                var next = LeakyBucket.Evaluate(rule, state, costMilli, now, out var result);
                if (result.Admitted)
                {
                    LeakyBucket.Commit(ref state, next, now);
                }

                if (result.Remaining == input.tokens)
                {
                    // Nothing to drain: the effective window is one token's drain time.
                    if (result.NextMs != LeakyBucket.CeilingMs(rule, LeakyBucket.OneRequest))
                    {
                        return false;
                    }

                    continue;
                }

                if (result.NextMs < 1
                    || AvailableTokens(rule, state, now + result.NextMs - 1) != result.Remaining
                    || AvailableTokens(rule, state, now + result.NextMs) <= result.Remaining)
                {
                    return false;
                }
            }

            return true;
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void NextMs_SlowRuleWithBurst_IsOneUnitNotTheWholeBucket()
    {
        // 1r/m as NGINX keeps it (16 milli-requests per second), burst 5, three requests at once.
        var rule = Requests(16, 1000, 5);
        var state = default(BucketState);
        RateLimitItemResult result = default;
        for (var i = 0; i < 3; i++)
        {
            var next = LeakyBucket.Evaluate(rule, state, LeakyBucket.OneRequest, 0, out result);
            LeakyBucket.Commit(ref state, next, 0);
        }

        Assert.Equal(3, result.Remaining);
        Assert.Equal(62_500, result.NextMs);
    }

    [Fact]
    public void IdleAtMs_IsTheFirstMomentIsIdleHolds()
    {
        var rule = Requests(16, 1000, 5);
        var state = default(BucketState);
        for (var i = 0; i < 4; i++)
        {
            var next = LeakyBucket.Evaluate(rule, state, LeakyBucket.OneRequest, 1_000, out _);
            LeakyBucket.Commit(ref state, next, 1_000);
        }

        var idleAt = LeakyBucket.IdleAtMs(rule, state);

        Assert.False(LeakyBucket.IsIdle(rule, state, idleAt - 1));
        Assert.True(LeakyBucket.IsIdle(rule, state, idleAt));
        Assert.Equal(long.MinValue, LeakyBucket.IdleAtMs(rule, default));
    }
}
