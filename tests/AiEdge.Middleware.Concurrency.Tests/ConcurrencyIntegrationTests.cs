using System.Collections.Concurrent;
using System.Net;
using AiEdge.Middleware.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace AiEdge.Middleware.Concurrency.Tests;

public sealed class ConcurrencyIntegrationTests
{
    [Fact]
    public async Task OverTheLimit_WithoutQueue_Refuses503ProblemWithRetryAfter()
    {
        var valve = new Valve();
        await using var app = await ConcurrencyHost.StartAsync(
            new FakeTimeProvider(TestClock.Start),
            o => o.AddTier("generate", t => t.Limit = 2),
            a => a.MapGet("/gen", (HttpContext c) => valve.PassAsync(c.RequestAborted)).WithConcurrencyTier("generate"));

        var first = app.SendAsync("/gen");
        var second = app.SendAsync("/gen");
        await app.InFlightAsync("generate", 2);

        using var refused = await app.SendAsync("/gen");
        var problem = await ProblemAssert.IsProblemAsync(refused, HttpStatusCode.ServiceUnavailable);
        Assert.Equal("generate", problem.GetProperty("concurrency-tier").GetString());
        Assert.Equal("queue_full", problem.GetProperty("reason").GetString());
        Assert.Equal(ConcurrencyDefaults.OverloadedProblemType, problem.GetProperty("type").GetString());
        Assert.Equal("1", string.Join(",", refused.Headers.GetValues("Retry-After")));

        valve.Release(2);
        using (var a = await first) { Assert.Equal(HttpStatusCode.OK, a.StatusCode); }
        using (var b = await second) { Assert.Equal(HttpStatusCode.OK, b.StatusCode); }
        await app.InFlightAsync("generate", 0);
        using var again = await Pass(app, valve);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
    }

    [Fact]
    public async Task OverTheLimit_WaitsInTheQueue_ThenRunsWhenASlotFrees_AndAFullQueueRefuses()
    {
        var valve = new Valve();
        await using var app = await ConcurrencyHost.StartAsync(
            new FakeTimeProvider(TestClock.Start),
            o => o.AddTier("generate", t => { t.Limit = 1; t.QueueLimit = 1; }),
            a => a.MapGet("/gen", (HttpContext c) => valve.PassAsync(c.RequestAborted)).WithConcurrencyTier("generate"));

        var first = app.SendAsync("/gen");
        await app.InFlightAsync("generate", 1);
        var queued = app.SendAsync("/gen");
        await app.QueuedAsync("generate", 1);

        using var refused = await app.SendAsync("/gen");
        var problem = await ProblemAssert.IsProblemAsync(refused, HttpStatusCode.ServiceUnavailable);
        Assert.Equal("queue_full", problem.GetProperty("reason").GetString());

        valve.Release();
        using (var a = await first) { Assert.Equal(HttpStatusCode.OK, a.StatusCode); }
        await app.UntilAsyncEntered(valve, 2);
        Assert.Equal(0, app.Tier("generate").Totals().Queued);
        valve.Release();
        using (var b = await queued) { Assert.Equal(HttpStatusCode.OK, b.StatusCode); }
        await app.InFlightAsync("generate", 0);
    }

    [Fact]
    public async Task QueuedPastTheTimeout_Refused503_WithRetryAfterFromServiceTimeAndQueue()
    {
        var time = new FakeTimeProvider(TestClock.Start);
        var valve = new Valve();
        await using var app = await ConcurrencyHost.StartAsync(
            time,
            o => o.AddTier("generate", t => { t.Limit = 1; t.QueueLimit = 4; t.QueueTimeout = TimeSpan.FromSeconds(5); }),
            a => a.MapGet("/gen", async (HttpContext c) =>
            {
                await valve.PassAsync(c.RequestAborted);
            }).WithConcurrencyTier("generate"));

        // One request of 8 s teaches the tier its service time.
        var teacher = app.SendAsync("/gen");
        await app.InFlightAsync("generate", 1);
        time.Advance(TimeSpan.FromSeconds(8));
        valve.Release();
        (await teacher).Dispose();
        await app.InFlightAsync("generate", 0);

        var holder = app.SendAsync("/gen");
        await app.InFlightAsync("generate", 1);
        var waiting = app.SendAsync("/gen");
        await app.QueuedAsync("generate", 1);
        var behind = app.SendAsync("/gen");
        await app.QueuedAsync("generate", 2);

        time.Advance(TimeSpan.FromSeconds(5));
        using var timedOut = await waiting;
        var problem = await ProblemAssert.IsProblemAsync(timedOut, HttpStatusCode.ServiceUnavailable);
        Assert.Equal("queue_timeout", problem.GetProperty("reason").GetString());

        // 8 s a request, a limit of 1: the queue left behind (the second waiter timed out with it) is zero when the
        // last one leaves, so the estimate is one service time.
        Assert.Equal("8", string.Join(",", timedOut.Headers.GetValues("Retry-After")));
        using var alsoTimedOut = await behind;
        Assert.Equal(HttpStatusCode.ServiceUnavailable, alsoTimedOut.StatusCode);

        valve.Release();
        (await holder).Dispose();
        await app.InFlightAsync("generate", 0);
    }

    [Fact]
    public async Task PartitionedTier_RefusesTheCallerOverItsShare_With429_WhileOthersPass()
    {
        var valve = new Valve();
        await using var app = await ConcurrencyHost.StartAsync(
            new FakeTimeProvider(TestClock.Start),
            o => o.AddTier("per-caller", t => { t.Limit = 1; t.Partition = ConcurrencyPartitionKind.Caller; }),
            a => a.MapGet("/gen", (HttpContext c) => valve.PassAsync(c.RequestAborted)).WithConcurrencyTier("per-caller"));

        var alice = app.SendAsync("/gen", user: "alice");
        await app.InFlightAsync("per-caller", 1);
        using var refused = await app.SendAsync("/gen", user: "alice");
        var problem = await ProblemAssert.IsProblemAsync(refused, HttpStatusCode.TooManyRequests);
        Assert.Equal(ConcurrencyDefaults.PartitionProblemType, problem.GetProperty("type").GetString());

        var bob = app.SendAsync("/gen", user: "bob");
        await app.InFlightAsync("per-caller", 2);
        valve.Release(2);
        (await alice).Dispose();
        (await bob).Dispose();
        await app.InFlightAsync("per-caller", 0);
    }

    [Fact]
    public async Task QueuedRequest_WhoseClientLeaves_LeavesTheQueueAtOnce()
    {
        var valve = new Valve();
        await using var app = await ConcurrencyHost.StartAsync(
            new FakeTimeProvider(TestClock.Start),
            o => o.AddTier("generate", t => { t.Limit = 1; t.QueueLimit = 2; t.QueueTimeout = TimeSpan.FromMinutes(5); }),
            a => a.MapGet("/gen", (HttpContext c) => valve.PassAsync(c.RequestAborted)).WithConcurrencyTier("generate"));

        var holder = app.SendAsync("/gen");
        await app.InFlightAsync("generate", 1);
        using var leaving = new CancellationTokenSource();
        var gone = app.SendAsync("/gen", cancellationToken: leaving.Token);
        await app.QueuedAsync("generate", 1);

        leaving.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => gone);
        await app.QueuedAsync("generate", 0);

        // Its place is free: two more can queue, and the slot goes to them, not to the one that left.
        var next = app.SendAsync("/gen");
        await app.QueuedAsync("generate", 1);
        valve.Release();
        (await holder).Dispose();
        await app.UntilAsyncEntered(valve, 2);
        valve.Release();
        using var served = await next;
        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        await app.InFlightAsync("generate", 0);
    }

    [Fact]
    public async Task Queue_ServesHigherPlansFirst_AndALowerPlanAfterTheStarvationBound()
    {
        var order = new ConcurrentQueue<string>();
        var valve = new Valve();
        await using var app = await ConcurrencyHost.StartAsync(
            new FakeTimeProvider(TestClock.Start),
            o =>
            {
                o.PlanPriority.Add("pro");
                o.PlanPriority.Add("free");
                o.StarvationLimit = 2;
                o.AddTier("generate", t => { t.Limit = 1; t.QueueLimit = 10; t.QueueTimeout = TimeSpan.FromMinutes(5); });
            },
            a => a.MapGet("/gen", async (HttpContext c) =>
            {
                order.Enqueue(c.Request.Query["name"].ToString());
                await valve.PassAsync(c.RequestAborted);
            }).WithConcurrencyTier("generate"));

        var holder = app.SendAsync("/gen?name=holder", user: "h", plan: "free");
        await app.InFlightAsync("generate", 1);
        var requests = new List<Task<HttpResponseMessage>>();
        (string Name, string Plan)[] arrivals = [("free1", "free"), ("anon1", "none"), ("pro1", "pro"), ("pro2", "pro"), ("pro3", "pro"), ("free2", "free")];
        foreach (var (name, plan) in arrivals)
        {
            requests.Add(app.SendAsync("/gen?name=" + name, user: name, plan: plan));
            await app.QueuedAsync("generate", requests.Count);
        }

        for (var served = 1; served <= arrivals.Length + 1; served++)
        {
            valve.Release();
            await app.UntilAsyncEntered(valve, Math.Min(served + 1, arrivals.Length + 1));
        }

        (await holder).Dispose();
        foreach (var request in requests)
        {
            (await request).Dispose();
        }

        // pro first; after two pro were served ahead of them, free1 and anon1 starve: the higher (free1) goes, then
        // anon1 (three served ahead of it now); then pro3, and free2 last (one served ahead of it).
        Assert.Equal(["holder", "pro1", "pro2", "free1", "anon1", "pro3", "free2"], order.ToArray());
    }

    [Fact]
    public async Task UnknownTier_FailsAtStartup_NamingIt()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => ConcurrencyHost.StartAsync(
            TimeProvider.System,
            o => o.AddTier("generate", t => t.Limit = 1),
            a => a.MapGet("/gen", () => "x").WithConcurrencyTier("missing")));
        Assert.Contains("AiEdge:Concurrency:Tiers:missing", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("AiEdge:Concurrency:Tiers:generate:Limit", "0", "AiEdge:Concurrency:Tiers:generate:Limit is required")]
    [InlineData("AiEdge:Concurrency:Tiers:generate:QueueLimit", "-1", "AiEdge:Concurrency:Tiers:generate:QueueLimit must not be negative")]
    [InlineData("AiEdge:Concurrency:Tiers:generate:QueueTimeout", "-00:00:01", "AiEdge:Concurrency:Tiers:generate:QueueTimeout must not be negative")]
    [InlineData("AiEdge:Concurrency:StarvationLimit", "0", "AiEdge:Concurrency:StarvationLimit must be at least 1")]
    [InlineData("AiEdge:Concurrency:Tiers:generate:Adaptive:Enabled", "true", "Adaptive:Enabled needs Partition None")]
    public async Task InvalidConfiguration_FailsAtStartup_NamingTheKey(string key, string value, string expected)
    {
        var configuration = new Dictionary<string, string?>
        {
            ["AiEdge:Concurrency:Tiers:generate:Limit"] = "2",
            ["AiEdge:Concurrency:Tiers:generate:Partition"] = key.EndsWith("Adaptive:Enabled", StringComparison.Ordinal) ? "Caller" : "None",
            [key] = value,
        };
        await StartupAssert.FailsAsync(
            () => ConcurrencyHost.StartAsync(TimeProvider.System, null, a => a.MapGet("/gen", () => "x").WithConcurrencyTier("generate"), configuration),
            expected);
    }

    [Fact]
    public async Task Configuration_BindsTheTier_AndTheAttributeAppliesIt()
    {
        var valve = new Valve();
        await using var app = await ConcurrencyHost.StartAsync(
            TimeProvider.System,
            null,
            a => a.MapGet("/gen", [ConcurrencyTier("generate")] (HttpContext c) => valve.PassAsync(c.RequestAborted)),
            new Dictionary<string, string?>
            {
                ["AiEdge:Concurrency:Tiers:generate:Limit"] = "1",
                ["AiEdge:Concurrency:Tiers:generate:QueueLimit"] = "3",
                ["AiEdge:Concurrency:Tiers:generate:QueueTimeout"] = "00:00:07",
                ["AiEdge:Concurrency:Tiers:generate:Partition"] = "Plan",
            });

        var tier = app.Tier("generate");
        Assert.Equal(1, tier.Limit);
        Assert.Equal(3, tier.QueueLimit);
        Assert.Equal(TimeSpan.FromSeconds(7), tier.QueueTimeout);
        Assert.Equal(ConcurrencyPartitionKind.Plan, tier.Partition);

        var first = app.SendAsync("/gen", user: "a", plan: "pro");
        await app.InFlightAsync("generate", 1);
        valve.Release();
        (await first).Dispose();
    }

    [Fact]
    public async Task DisabledEndpoint_InALimitedGroup_TakesNoSlot()
    {
        var valve = new Valve();
        await using var app = await ConcurrencyHost.StartAsync(
            new FakeTimeProvider(TestClock.Start),
            o => o.AddTier("generate", t => t.Limit = 1),
            a =>
            {
                var group = a.MapGroup("/v1").WithConcurrencyTier("generate");
                group.MapGet("/gen", (HttpContext c) => valve.PassAsync(c.RequestAborted));
                group.MapGet("/free", () => "free").DisableConcurrencyTier();
            });

        var holder = app.SendAsync("/v1/gen");
        await app.InFlightAsync("generate", 1);
        using (var free = await app.SendAsync("/v1/free")) { Assert.Equal(HttpStatusCode.OK, free.StatusCode); }
        using (var refused = await app.SendAsync("/v1/gen")) { Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode); }
        valve.Release();
        (await holder).Dispose();
    }

    private static async Task<HttpResponseMessage> Pass(TestApp app, Valve valve)
    {
        var pending = app.SendAsync("/gen");
        await ConcurrencyHost.UntilAsync(() => valve.Entered > 0, "the request entered");
        valve.Release();
        return await pending;
    }
}

internal static class ValveWaits
{
    public static Task UntilAsyncEntered(this TestApp app, Valve valve, int entered)
        => ConcurrencyHost.UntilAsync(() => valve.Entered >= entered, entered + " requests entered the endpoint");
}
