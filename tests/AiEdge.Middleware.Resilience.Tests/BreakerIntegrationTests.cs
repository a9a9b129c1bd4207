using System.Net;
using AiEdge.Middleware.Testing;
using Microsoft.Extensions.Time.Testing;
using Polly.CircuitBreaker;

namespace AiEdge.Middleware.Resilience.Tests;

public sealed class BreakerIntegrationTests
{
    [Fact]
    public async Task FailingBackend_OpensAfterThreshold_ThenAnswers503WithRemainingBreakAndSparesBackend()
    {
        await using var backend = await FakeModelBackend.StartAsync();
        backend.Mode = FakeBackendMode.Error;
        var clock = new FakeTimeProvider(TestClock.Start);
        await using var app = await ResilienceHost.StartAsync(clock, ResilienceHost.Settings(backend));

        using var first = await app.Client.ChatAsync();
        using var second = await app.Client.ChatAsync();
        await ProblemAssert.IsProblemAsync(first, HttpStatusCode.BadGateway);
        await ProblemAssert.IsProblemAsync(second, HttpStatusCode.BadGateway);
        Assert.Equal(2, backend.Calls);

        using var refused = await app.Client.ChatAsync();
        await ProblemAssert.IsProblemAsync(refused, HttpStatusCode.ServiceUnavailable);
        Assert.Equal(TimeSpan.FromSeconds(30), refused.Headers.RetryAfter?.Delta);

        clock.Advance(TimeSpan.FromSeconds(10.5));
        using var later = await app.Client.ChatAsync();
        await ProblemAssert.IsProblemAsync(later, HttpStatusCode.ServiceUnavailable);
        Assert.Equal(TimeSpan.FromSeconds(20), later.Headers.RetryAfter?.Delta);

        clock.Advance(TimeSpan.FromSeconds(19.2));
        using var last = await app.Client.ChatAsync();
        Assert.Equal(TimeSpan.FromSeconds(1), last.Headers.RetryAfter?.Delta);
        Assert.Equal(2, backend.Calls);
    }

    [Fact]
    public async Task OpenBreaker_AfterBreak_HalfOpenProbeSucceeds_Closes()
    {
        await using var backend = await FakeModelBackend.StartAsync();
        backend.Mode = FakeBackendMode.Error;
        var clock = new FakeTimeProvider(TestClock.Start);
        await using var app = await ResilienceHost.StartAsync(clock, ResilienceHost.Settings(backend));
        (await app.Client.ChatAsync()).Dispose();
        (await app.Client.ChatAsync()).Dispose();
        var replica = app.Pool().Replicas[0];
        Assert.Equal(CircuitState.Open, replica.State);

        backend.Mode = FakeBackendMode.Ok;
        clock.Advance(TimeSpan.FromSeconds(30));
        using var probe = await app.Client.ChatAsync();

        Assert.Equal(HttpStatusCode.OK, probe.StatusCode);
        Assert.Equal(CircuitState.Closed, replica.State);
        using var next = await app.Client.ChatAsync();
        Assert.Equal(HttpStatusCode.OK, next.StatusCode);
        Assert.Equal(4, backend.Calls);
    }

    [Fact]
    public async Task OpenBreaker_HalfOpenProbeFails_OpensForAnotherBreak()
    {
        await using var backend = await FakeModelBackend.StartAsync();
        backend.Mode = FakeBackendMode.Error;
        var clock = new FakeTimeProvider(TestClock.Start);
        await using var app = await ResilienceHost.StartAsync(clock, ResilienceHost.Settings(backend));
        (await app.Client.ChatAsync()).Dispose();
        (await app.Client.ChatAsync()).Dispose();

        clock.Advance(TimeSpan.FromSeconds(31));
        using var probe = await app.Client.ChatAsync();
        await ProblemAssert.IsProblemAsync(probe, HttpStatusCode.BadGateway);
        Assert.Equal(3, backend.Calls);

        using var refused = await app.Client.ChatAsync();
        await ProblemAssert.IsProblemAsync(refused, HttpStatusCode.ServiceUnavailable);
        Assert.Equal(TimeSpan.FromSeconds(30), refused.Headers.RetryAfter?.Delta);
        Assert.Equal(CircuitState.Open, app.Pool().Replicas[0].State);
    }

    [Fact]
    public async Task HangingBackend_AttemptTimeout_Answers504AndCountsAsFailure()
    {
        await using var backend = await FakeModelBackend.StartAsync();
        backend.Mode = FakeBackendMode.Hang;
        var clock = new FakeTimeProvider(TestClock.Start);
        await using var app = await ResilienceHost.StartAsync(clock, ResilienceHost.Settings(backend));

        for (var i = 0; i < 2; i++)
        {
            var pending = app.Client.ChatAsync();
            await backend.Arrivals.Reader.ReadAsync().AsTask().WaitAsync(ResilienceHost.Wait);
            Assert.False(pending.IsCompleted);
            clock.Advance(TimeSpan.FromSeconds(5));
            using var response = await pending;
            var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.GatewayTimeout);
            Assert.Contains("model", problem.GetProperty("detail").GetString());
        }

        Assert.Equal(CircuitState.Open, app.Pool().Replicas[0].State);
    }

    [Fact]
    public async Task BackendAnswering4xx_IsPassedThrough_AndNotAFailure()
    {
        await using var backend = await FakeModelBackend.StartAsync();
        backend.Mode = FakeBackendMode.BadRequest;
        var clock = new FakeTimeProvider(TestClock.Start);
        await using var app = await ResilienceHost.StartAsync(clock, ResilienceHost.Settings(backend));

        for (var i = 0; i < 4; i++)
        {
            using var response = await app.Client.ChatAsync();
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Contains("bad prompt", await response.Content.ReadAsStringAsync());
        }

        Assert.Equal(4, backend.Calls);
        Assert.Equal(CircuitState.Closed, app.Pool().Replicas[0].State);
    }

    [Fact]
    public async Task UnreachableBackend_Answers502Problem()
    {
        await using var backend = await FakeModelBackend.StartAsync();
        var settings = ResilienceHost.Settings(backend);
        await backend.DisposeAsync();
        var clock = new FakeTimeProvider(TestClock.Start);
        await using var app = await ResilienceHost.StartAsync(clock, settings);

        using var response = await app.Client.ChatAsync();

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadGateway);
    }
}
