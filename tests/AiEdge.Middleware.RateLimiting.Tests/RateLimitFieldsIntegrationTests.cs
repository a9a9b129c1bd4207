using System.Net;
using AiEdge.Middleware.RateLimiting.Internal;
using AiEdge.Middleware.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Time.Testing;

namespace AiEdge.Middleware.RateLimiting.Tests;

/// <summary>
/// The RateLimit fields as draft-ietf-httpapi-ratelimit-headers-11 defines them, Retry-After's rounding, and
/// IPv4 clients seen through a dual-stack socket, black-box through a host with the fake clock (FakeTimeProvider).
/// </summary>
public sealed class RateLimitFieldsIntegrationTests
{
    private static Task<TestApp> StartAsync(FakeTimeProvider time, string rate, int burst)
        => RateLimitHost.StartAsync(
            time,
            o => o.AddTier("t", t =>
            {
                t.Rate = rate;
                t.Burst = burst;
            }),
            app => app.MapGet("/limited", () => "ok").WithRateLimitTier("t"));

    [Fact]
    public async Task RateLimitT_IsTheSecondsUntilMoreQuota_NotUntilTheBucketIsFull()
    {
        var time = new FakeTimeProvider(TestClock.Start);
        await using var app = await StartAsync(time, "1r/m", 5);

        var values = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            using var response = await app.SendAsync("/limited");
            values.Add(response.Header("RateLimit"));
        }

        // NGINX's 1r/m drains 16 milli-requests per second: one request in 62.5 s (not 187.5 s for the three queued).
        Assert.Equal(["\"t\";r=5;t=63", "\"t\";r=4;t=63", "\"t\";r=3;t=63"], values);

        // 30 s later 0.48 of a request has drained: the next one frees 32.5 s later.
        time.Advance(TimeSpan.FromSeconds(30));
        using var later = await app.SendAsync("/limited");
        Assert.Equal("\"t\";r=2;t=33", later.Header("RateLimit"));
        Assert.Equal("\"t\";q=6;w=360", later.Header("RateLimit-Policy"));
    }

    [Fact]
    public async Task RateLimit_ALargeQuota_ReportsEveryValueExactly_InsideAndBelowTheValuesKeptFormatted()
    {
        // 5,000 units over a 5 s window: more values than are kept formatted, so those just below a full bucket are
        // (from 4,489 up) and the ones further down are formatted per request. The clock stands still: each request
        // takes one unit, and the next unit drains in 1 ms (t=1).
        var time = new FakeTimeProvider(TestClock.Start);
        await using var app = await StartAsync(time, "1000r/s", 4999);

        for (var remaining = 4999; remaining >= 4400; remaining--)
        {
            using var response = await app.SendAsync("/limited");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal($"\"t\";r={remaining};t=1", response.Header("RateLimit"));
        }

        Assert.Equal("\"t\";q=5000;w=5", (await app.SendAsync("/limited")).Header("RateLimit-Policy"));
    }

    [Fact]
    public async Task RateLimitT_OnARejection_IsTheRetryAfter()
    {
        var time = new FakeTimeProvider(TestClock.Start);
        await using var app = await StartAsync(time, "2r/s", 1);
        await app.SendManyAsync("/limited", 2);
        time.Advance(TimeSpan.FromMilliseconds(100));

        using var rejected = await app.SendAsync("/limited");

        Assert.Equal(HttpStatusCode.TooManyRequests, rejected.StatusCode);
        Assert.Equal("1", rejected.Header("Retry-After"));
        Assert.Equal("\"t\";r=0;t=1", rejected.Header("RateLimit"));
    }

    [Fact]
    public async Task RateLimit_RefusedByOneTier_TheOtherReportsTheQuotaItStillHas()
    {
        var time = new FakeTimeProvider(TestClock.Start);
        await using var app = await RateLimitHost.StartAsync(
            time,
            o => o.AddTier("a", t =>
            {
                t.Rate = "1r/m";
                t.Burst = 5;
            }).AddTier("b", t => t.Rate = "10r/s"),
            app => app.MapGet("/limited", () => "ok").WithRateLimitTier("a").WithRateLimitTier("b"));

        using var first = await app.SendAsync("/limited");
        using var refused = await app.SendAsync("/limited");

        Assert.Equal("\"a\";r=5;t=63, \"b\";r=0;t=1", first.Header("RateLimit"));
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Equal("1", refused.Header("Retry-After"));

        // The refusal charged nothing to "a": it still has 5, and "b" frees its next request when Retry-After says.
        Assert.Equal("\"a\";r=5;t=63, \"b\";r=0;t=1", refused.Header("RateLimit"));
    }

    [Theory]
    [InlineData(0, "3600")]       // exactly one hour: not bumped to 3601
    [InlineData(1, "3600")]       // 3,599.999 s rounds up
    [InlineData(1_000, "3599")]   // exact again
    [InlineData(1_001, "3599")]
    [InlineData(3_599_000, "1")]  // exactly 1 s
    [InlineData(3_599_999, "1")]  // 1 ms: never 0
    public async Task RetryAfter_RoundsFractionsUp_KeepsWholeSeconds_AtLeastOne(int elapsedMs, string expected)
    {
        var time = new FakeTimeProvider(TestClock.Start);
        await using var app = await StartAsync(time, "1r/h", 0);
        await app.SendManyAsync("/limited", 1);
        time.Advance(TimeSpan.FromMilliseconds(elapsedMs));

        using var rejected = await app.SendAsync("/limited");

        Assert.Equal(HttpStatusCode.TooManyRequests, rejected.StatusCode);
        Assert.Equal(expected, rejected.Header("Retry-After"));
        Assert.Equal("\"t\";r=0;t=" + expected, rejected.Header("RateLimit"));
    }

    [Theory]
    [InlineData(0, 1)]
    [InlineData(1, 1)]
    [InlineData(999, 1)]
    [InlineData(1_000, 1)]
    [InlineData(1_001, 2)]
    [InlineData(1_999, 2)]
    [InlineData(2_000, 2)]
    [InlineData(62_500, 63)]
    [InlineData(3_600_000, 3_600)]
    public void RetryAfterSeconds_RoundsUpToWholeSeconds_AtLeastOne(long ms, long seconds)
        => Assert.Equal(seconds, RateLimitingMiddleware.RetryAfterSeconds(ms));

    [Fact]
    public async Task Ipv4MappedClients_KeepOneBucketEach_SharedWithTheirPlainIpv4()
    {
        var time = new FakeTimeProvider(TestClock.Start);
        await using var app = await StartAsync(time, "1r/m", 0);

        using var first = await app.SendAsync("/limited", ip: "::ffff:10.0.0.1");
        using var second = await app.SendAsync("/limited", ip: "::ffff:10.0.0.2");
        using var third = await app.SendAsync("/limited", ip: "::ffff:10.0.0.3");
        using var firstAgain = await app.SendAsync("/limited", ip: "::ffff:10.0.0.1");
        using var firstPlain = await app.SendAsync("/limited", ip: "10.0.0.1");

        // One /64 would hold every ::ffff:0:0/96 address: each mapped client must still have its own bucket.
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal(HttpStatusCode.OK, third.StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, firstAgain.StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, firstPlain.StatusCode);
    }
}
