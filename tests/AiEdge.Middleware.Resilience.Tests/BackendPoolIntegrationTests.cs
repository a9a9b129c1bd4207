using System.Net;
using System.Net.Http.Json;
using System.Text;
using AiEdge.Middleware.Resilience.Internal;
using AiEdge.Middleware.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Time.Testing;
using Polly.CircuitBreaker;

namespace AiEdge.Middleware.Resilience.Tests;

public sealed class BackendPoolIntegrationTests
{
    [Theory]
    [InlineData("LeastOutstanding")]
    [InlineData("PowerOfTwoChoices")]
    public async Task Pool_SpreadsSequentialCallsByWeight(string selection)
    {
        await using var heavy = await FakeModelBackend.StartAsync();
        await using var light = await FakeModelBackend.StartAsync();
        var settings = ResilienceHost.Settings(heavy, light);
        settings["AiEdge:Resilience:Backends:model:Replicas:0:Weight"] = "3";
        settings["AiEdge:Resilience:Backends:model:Selection"] = selection;
        await using var app = await ResilienceHost.StartAsync(new FakeTimeProvider(TestClock.Start), settings);

        for (var i = 0; i < 200; i++)
        {
            using var response = await app.Client.GetAsync("/models").WaitAsync(ResilienceHost.Wait);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        // Expected 150 : 50; a binomial spread of 200 draws stays far inside these bounds.
        Assert.Equal(200, heavy.Calls + light.Calls);
        Assert.InRange(heavy.Calls, 120, 180);
    }

    [Fact]
    public async Task Pool_ReplicaWithOpenBreaker_IsSkippedUntilItsProbeSucceeds()
    {
        await using var failing = await FakeModelBackend.StartAsync();
        await using var healthy = await FakeModelBackend.StartAsync();
        failing.Mode = FakeBackendMode.Error;
        var clock = new FakeTimeProvider(TestClock.Start);
        await using var app = await ResilienceHost.StartAsync(clock, ResilienceHost.Settings(failing, healthy));
        var replica = app.Pool().Replicas[0];

        for (var i = 0; i < 200 && replica.State != CircuitState.Open; i++)
        {
            (await app.Client.ChatAsync()).Dispose();
        }

        Assert.Equal(CircuitState.Open, replica.State);
        var failingCalls = failing.Calls;
        for (var i = 0; i < 10; i++)
        {
            using var response = await app.Client.ChatAsync();
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.Equal(failingCalls, failing.Calls);

        failing.Mode = FakeBackendMode.Ok;
        clock.Advance(TimeSpan.FromSeconds(30));
        for (var i = 0; i < 200 && failing.Calls == failingCalls; i++)
        {
            using var response = await app.Client.ChatAsync();
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.Equal(failingCalls + 1, failing.Calls);
        Assert.Equal(CircuitState.Closed, replica.State);
    }

    [Fact]
    public async Task Pool_EveryReplicaOpen_Answers503WithSoonestRetryAfter()
    {
        await using var a = await FakeModelBackend.StartAsync();
        await using var b = await FakeModelBackend.StartAsync();
        a.Mode = FakeBackendMode.Error;
        var clock = new FakeTimeProvider(TestClock.Start);
        await using var app = await ResilienceHost.StartAsync(clock, ResilienceHost.Settings(a, b));
        var replicas = app.Pool().Replicas;
        for (var i = 0; i < 200 && replicas[0].State != CircuitState.Open; i++)
        {
            (await app.Client.ChatAsync()).Dispose();
        }

        clock.Advance(TimeSpan.FromSeconds(10));
        b.Mode = FakeBackendMode.Error;
        for (var i = 0; i < 200 && replicas[1].State != CircuitState.Open; i++)
        {
            (await app.Client.ChatAsync()).Dispose();
        }

        Assert.Equal(CircuitState.Open, replicas[0].State);
        Assert.Equal(CircuitState.Open, replicas[1].State);
        var calls = a.Calls + b.Calls;

        using var refused = await app.Client.ChatAsync();

        await ProblemAssert.IsProblemAsync(refused, HttpStatusCode.ServiceUnavailable);
        Assert.Equal(TimeSpan.FromSeconds(20), refused.Headers.RetryAfter?.Delta);
        Assert.Equal(calls, a.Calls + b.Calls);
    }

    [Fact]
    public async Task Pool_IdempotentCall_IsRetriedOnAnotherReplica()
    {
        await using var failing = await FakeModelBackend.StartAsync();
        await using var healthy = await FakeModelBackend.StartAsync();
        failing.Mode = FakeBackendMode.Error;
        var settings = ResilienceHost.Settings(failing, healthy);
        settings["AiEdge:Resilience:Breakers:model:MinimumThroughput"] = "100";
        await using var app = await ResilienceHost.StartAsync(new FakeTimeProvider(TestClock.Start), settings);

        for (var i = 0; i < 20; i++)
        {
            using var response = await app.Client.GetAsync("/models").WaitAsync(ResilienceHost.Wait);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.True(failing.Calls > 0, "the failing replica should have been tried");
        Assert.Equal(20, healthy.Calls);
    }

    [Fact]
    public async Task Pool_NonIdempotentPost_IsNeverRetried()
    {
        await using var failing = await FakeModelBackend.StartAsync();
        await using var healthy = await FakeModelBackend.StartAsync();
        failing.Mode = FakeBackendMode.Error;
        var settings = ResilienceHost.Settings(failing, healthy);
        settings["AiEdge:Resilience:Breakers:model:MinimumThroughput"] = "100";
        await using var app = await ResilienceHost.StartAsync(new FakeTimeProvider(TestClock.Start), settings);

        var badGateways = 0;
        for (var i = 0; i < 20; i++)
        {
            using var response = await app.Client.ChatAsync();
            badGateways += response.StatusCode == HttpStatusCode.BadGateway ? 1 : 0;
        }

        Assert.Equal(20, failing.Calls + healthy.Calls);
        Assert.Equal(failing.Calls, badGateways);
    }

    [Fact]
    public async Task Pool_PostWithIdempotencyKey_IsRetriedOnAnotherReplica_AndWithoutOneIsNot()
    {
        await using var failing = await FakeModelBackend.StartAsync();
        await using var healthy = await FakeModelBackend.StartAsync();
        failing.Mode = FakeBackendMode.Error;
        var settings = ResilienceHost.Settings(failing, healthy);
        settings["AiEdge:Resilience:Breakers:model:MinimumThroughput"] = "100";
        await using var app = await ResilienceHost.StartAsync(new FakeTimeProvider(TestClock.Start), settings, map: static web =>
            web.MapPost("/keyed", static async (HttpContext context, ModelBackendClient backend) =>
            {
                // A buffered body (sent again on a retry) and the caller's Idempotency-Key passed on.
                using var body = new MemoryStream();
                await context.Request.Body.CopyToAsync(body);
                using var request = new HttpRequestMessage(HttpMethod.Post, "chat/completions") { Content = new ByteArrayContent(body.ToArray()) };
                if (context.Request.Headers.TryGetValue("Idempotency-Key", out var key))
                {
                    request.Headers.TryAddWithoutValidation("Idempotency-Key", key.ToString());
                }

                using var response = await backend.SendAsync(request, context.RequestAborted);
                await ModelBackendClient.RelayAsync(context, response);
            }));

        for (var i = 0; i < 20; i++)
        {
            using var keyed = new HttpRequestMessage(HttpMethod.Post, "/keyed") { Content = JsonContent.Create(new { model = "m" }) };
            keyed.Headers.Add("Idempotency-Key", "k" + i);
            using var response = await app.Client.SendAsync(keyed).WaitAsync(ResilienceHost.Wait);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.True(failing.Calls > 0, "the failing replica should have been tried");
        Assert.Equal(20, healthy.Calls);

        var failingBefore = failing.Calls;
        var badGateways = 0;
        for (var i = 0; i < 10; i++)
        {
            using var response = await app.Client.PostAsJsonAsync("/keyed", new { model = "m" }).WaitAsync(ResilienceHost.Wait);
            badGateways += response.StatusCode == HttpStatusCode.BadGateway ? 1 : 0;
        }

        Assert.Equal(30, failing.Calls - failingBefore + healthy.Calls);
        Assert.Equal(failing.Calls - failingBefore, badGateways);
    }

    [Fact]
    public async Task Pool_TotalTimeout_OfTheResilienceHandler_RunsOnTheAppClock_AndAnswers504()
    {
        await using var backend = await FakeModelBackend.StartAsync();
        backend.Mode = FakeBackendMode.Hang;
        var settings = ResilienceHost.Settings(backend);
        settings["AiEdge:Resilience:Breakers:model:AttemptTimeout"] = "00:01:00";
        settings["AiEdge:Resilience:Breakers:model:TotalTimeout"] = "00:00:02";
        var clock = new FakeTimeProvider(TestClock.Start);
        await using var app = await ResilienceHost.StartAsync(clock, settings);

        var pending = app.Client.ChatAsync();
        await backend.Arrivals.Reader.ReadAsync().AsTask().WaitAsync(ResilienceHost.Wait);
        clock.Advance(TimeSpan.FromSeconds(1.9));
        Assert.False(pending.IsCompleted);
        clock.Advance(TimeSpan.FromSeconds(0.1));
        using var response = await pending;

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.GatewayTimeout);
        Assert.Equal(1, backend.Calls);
    }

    [Fact]
    public async Task Pool_StreamedAnswer_PassesThroughEventByEvent()
    {
        await using var backend = await FakeModelBackend.StartAsync();
        await using var app = await ResilienceHost.StartAsync(new FakeTimeProvider(TestClock.Start), ResilienceHost.Settings(backend), kestrel: true);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/chat")
        {
            Content = JsonContent.Create(new { model = "m", stream = true, messages = new[] { new { role = "user", content = "hi" } } }),
        };

        using var response = await app.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead).WaitAsync(ResilienceHost.Wait);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("no", response.Headers.GetValues("X-Accel-Buffering").Single());
        await using var body = await response.Content.ReadAsStreamAsync();
        var first = await ReadEventAsync(body).WaitAsync(ResilienceHost.Wait);

        // The backend holds its second event until the gate opens: the first one arrived on its own.
        Assert.Contains("\"t0\"", first);
        Assert.Equal(1, app.Pool().Replicas[0].Outstanding);
        backend.StreamGate.Release(10);
        using var reader = new StreamReader(body, Encoding.UTF8);
        var rest = await reader.ReadToEndAsync().WaitAsync(ResilienceHost.Wait);
        Assert.Contains("\"t2\"", rest);
        Assert.EndsWith("data: [DONE]\n\n", rest);
    }

    [Fact]
    public async Task Pool_LeastOutstanding_SendsNewCallsAwayFromAReplicaBusyStreaming()
    {
        await using var a = await FakeModelBackend.StartAsync();
        await using var b = await FakeModelBackend.StartAsync();
        await using var app = await ResilienceHost.StartAsync(new FakeTimeProvider(TestClock.Start), ResilienceHost.Settings(a, b), kestrel: true);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/chat")
        {
            Content = JsonContent.Create(new { model = "m", stream = true, messages = new[] { new { role = "user", content = "hi" } } }),
        };
        using var stream = await app.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead).WaitAsync(ResilienceHost.Wait);
        var busy = a.Calls == 1 ? a : b;
        var idle = busy == a ? b : a;

        for (var i = 0; i < 10; i++)
        {
            using var response = await app.Client.GetAsync("/models").WaitAsync(ResilienceHost.Wait);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.Equal(1, busy.Calls);
        Assert.Equal(10, idle.Calls);
    }

    [Fact]
    public async Task Pool_ConcurrentCalls_AllAnswered_AndNothingStaysOutstanding()
    {
        await using var a = await FakeModelBackend.StartAsync();
        await using var b = await FakeModelBackend.StartAsync();
        var settings = ResilienceHost.Settings(a, b);
        settings["AiEdge:Resilience:Backends:model:Replicas:1:Weight"] = "2";
        await using var app = await ResilienceHost.StartAsync(new FakeTimeProvider(TestClock.Start), settings, kestrel: true);

        var calls = new Task<HttpResponseMessage>[64];
        for (var i = 0; i < calls.Length; i++)
        {
            calls[i] = Task.Run(() => app.Client.GetAsync("/models"));
        }

        var responses = await Task.WhenAll(calls).WaitAsync(ResilienceHost.Wait);
        foreach (var response in responses)
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            response.Dispose();
        }

        Assert.Equal(64, a.Calls + b.Calls);
        Assert.All(app.Pool().Replicas, replica => Assert.Equal(0, replica.Outstanding));
    }

    [Fact]
    public async Task ActiveProbes_FailingHealthUrl_EjectReplica_AndRecoveryBringsItBack()
    {
        await using var sick = await FakeModelBackend.StartAsync();
        await using var fine = await FakeModelBackend.StartAsync();
        var settings = ResilienceHost.Settings(sick, fine);
        settings["AiEdge:Resilience:Backends:model:Replicas:0:HealthUrl"] = sick.BaseAddress + "health";
        settings["AiEdge:Resilience:Backends:model:Replicas:1:HealthUrl"] = fine.BaseAddress + "health";
        settings["AiEdge:Resilience:Backends:model:UnhealthyThreshold"] = "2";
        settings["AiEdge:Resilience:Backends:model:HealthyThreshold"] = "1";
        await using var app = await ResilienceHost.StartAsync(new FakeTimeProvider(TestClock.Start), settings);
        var prober = app.Services.GetServices<IHostedService>().OfType<BackendProber>().Single();
        var pool = app.Pool();

        sick.HealthStatus = 503;
        await prober.ProbePoolAsync(pool).WaitAsync(ResilienceHost.Wait);
        Assert.True(pool.Replicas[0].ProbeHealthy);
        await prober.ProbePoolAsync(pool).WaitAsync(ResilienceHost.Wait);
        Assert.False(pool.Replicas[0].ProbeHealthy);

        var before = sick.Calls;
        for (var i = 0; i < 10; i++)
        {
            using var response = await app.Client.ChatAsync();
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.Equal(before, sick.Calls);

        sick.HealthStatus = 200;
        await prober.ProbePoolAsync(pool).WaitAsync(ResilienceHost.Wait);
        Assert.True(pool.Replicas[0].ProbeHealthy);
        Assert.Equal(3, fine.HealthProbes);
    }

    [Fact]
    public async Task ActiveProbes_RunOnTheirIntervalFromTheTimeProvider()
    {
        await using var backend = await FakeModelBackend.StartAsync();
        var settings = ResilienceHost.Settings(backend);
        settings["AiEdge:Resilience:Backends:model:Replicas:0:HealthUrl"] = backend.BaseAddress + "health";
        settings["AiEdge:Resilience:Backends:model:ProbeInterval"] = "00:00:03";
        var clock = new FakeTimeProvider(TestClock.Start);
        await using var app = await ResilienceHost.StartAsync(clock, settings);

        clock.Advance(TimeSpan.FromSeconds(2.9));
        Assert.False(backend.HealthArrivals.Reader.TryRead(out _));
        clock.Advance(TimeSpan.FromSeconds(0.1));
        Assert.Equal(200, await backend.HealthArrivals.Reader.ReadAsync().AsTask().WaitAsync(ResilienceHost.Wait));
    }

    [Fact]
    public async Task Prober_StoppedAfterItWasDisposed_DoesNotThrow_AndProbesNoMore()
    {
        await using var backend = await FakeModelBackend.StartAsync();
        var settings = ResilienceHost.Settings(backend);
        settings["AiEdge:Resilience:Backends:model:Replicas:0:HealthUrl"] = backend.BaseAddress + "health";
        settings["AiEdge:Resilience:Backends:model:ProbeInterval"] = "00:00:03";
        var clock = new TimerCountingTimeProvider();
        await using var app = await ResilienceHost.StartAsync(clock, settings);
        var prober = app.Services.GetServices<IHostedService>().OfType<BackendProber>().Single();

        // What a host does when it is disposed while another hosted service is still stopping.
        await prober.DisposeAsync();
        await prober.StopAsync(CancellationToken.None).WaitAsync(ResilienceHost.Wait);
        clock.Advance(TimeSpan.FromSeconds(10));

        Assert.Equal(0, clock.LiveTimers);
        Assert.False(backend.HealthArrivals.Reader.TryRead(out _));
    }

    [Fact]
    public async Task ActiveProbe_Success_ClosesTheReplicasOpenBreakerBeforeTheBreakEnds()
    {
        await using var backend = await FakeModelBackend.StartAsync();
        backend.Mode = FakeBackendMode.Error;
        var settings = ResilienceHost.Settings(backend);
        settings["AiEdge:Resilience:Backends:model:Replicas:0:HealthUrl"] = backend.BaseAddress + "health";
        var clock = new FakeTimeProvider(TestClock.Start);
        await using var app = await ResilienceHost.StartAsync(clock, settings);
        (await app.Client.ChatAsync()).Dispose();
        (await app.Client.ChatAsync()).Dispose();
        var pool = app.Pool();
        Assert.Equal(CircuitState.Open, pool.Replicas[0].State);

        var prober = app.Services.GetServices<IHostedService>().OfType<BackendProber>().Single();
        backend.Mode = FakeBackendMode.Ok;
        await prober.ProbePoolAsync(pool).WaitAsync(ResilienceHost.Wait);

        Assert.Equal(CircuitState.Closed, pool.Replicas[0].State);
        using var response = await app.Client.ChatAsync();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public void HealthPath_IsResolvedUnderEachReplicaUrl()
    {
        var options = new ResilienceOptions();
        var backend = new BackendOptions { HealthPath = "/health" };
        backend.Replicas.Add(new BackendReplicaOptions { Url = "http://gpu-a:8000/v1" });
        options.Backends["m"] = backend;
        var registry = new BreakerRegistry(Microsoft.Extensions.Options.Options.Create(options), new FakeTimeProvider(TestClock.Start), TestMetrics.Create(),
            Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance);

        var replica = registry.GetPool("m").Replicas[0];

        Assert.Equal(new Uri("http://gpu-a:8000/v1/health"), replica.HealthUri);
        Assert.Equal(new Uri("http://gpu-a:8000/v1/"), replica.BaseUri);
        Assert.Equal("gpu-a:8000", replica.Replica);
    }

    private static async Task<string> ReadEventAsync(Stream body)
    {
        var buffer = new byte[4096];
        var text = new StringBuilder();
        while (!text.ToString().Contains("\n\n", StringComparison.Ordinal))
        {
            var read = await body.ReadAsync(buffer);
            if (read == 0)
            {
                break;
            }

            text.Append(Encoding.UTF8.GetString(buffer, 0, read));
        }

        return text.ToString();
    }
}
