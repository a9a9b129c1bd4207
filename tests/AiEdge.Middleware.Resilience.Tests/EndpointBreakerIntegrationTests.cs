using System.Diagnostics.Metrics;
using System.Net;
using AiEdge.Middleware.Resilience.Internal;
using AiEdge.Middleware.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Polly.CircuitBreaker;

namespace AiEdge.Middleware.Resilience.Tests;

public sealed class EndpointBreakerIntegrationTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    private static Dictionary<string, string?> Settings(string name = "local") => new()
    {
        ["AiEdge:Resilience:Breakers:" + name + ":MinimumThroughput"] = "2",
        ["AiEdge:Resilience:Breakers:" + name + ":BreakDuration"] = "00:00:10",
        ["AiEdge:Resilience:Breakers:" + name + ":AttemptTimeout"] = "00:00:02",
    };

    private static Task<TestApp> StartAsync(FakeTimeProvider clock, ModelStub model, Dictionary<string, string?>? settings = null, string name = "local")
        => TestApp.StartEdgeAsync(
            static edge => edge.AddResilience(),
            app =>
            {
                app.MapPost("/predict", (HttpContext context) => model.RunAsync(context)).WithCircuitBreaker(name);
                if (name == "local")
                {
                    app.MapPost("/attributed", [CircuitBreaker("local")] (HttpContext context) => model.RunAsync(context));
                }

                app.MapGet("/free", () => "free");
            },
            new TestAppOptions { Configuration = settings ?? Settings(name), Time = clock });

    [Fact]
    public async Task ThrowingModel_Answers502_ThenOpens_AndRefusesWith503WithoutRunningIt()
    {
        var clock = new FakeTimeProvider(TestClock.Start);
        var model = new ModelStub { Throw = true };
        await using var app = await StartAsync(clock, model);

        using var first = await app.Client.PostAsync("/predict", null).WaitAsync(Wait);
        using var second = await app.Client.PostAsync("/predict", null).WaitAsync(Wait);
        await ProblemAssert.IsProblemAsync(first, HttpStatusCode.BadGateway);
        await ProblemAssert.IsProblemAsync(second, HttpStatusCode.BadGateway);

        clock.Advance(TimeSpan.FromSeconds(2.5));
        using var refused = await app.Client.PostAsync("/predict", null).WaitAsync(Wait);
        await ProblemAssert.IsProblemAsync(refused, HttpStatusCode.ServiceUnavailable);
        Assert.Equal(TimeSpan.FromSeconds(8), refused.Headers.RetryAfter?.Delta);
        Assert.Equal(2, model.Runs);

        using var attributed = await app.Client.PostAsync("/attributed", null).WaitAsync(Wait);
        await ProblemAssert.IsProblemAsync(attributed, HttpStatusCode.ServiceUnavailable);
        using var free = await app.Client.GetAsync("/free").WaitAsync(Wait);
        Assert.Equal(HttpStatusCode.OK, free.StatusCode);
    }

    [Theory]
    [InlineData(true, HttpStatusCode.OK, CircuitState.Closed)]
    [InlineData(false, HttpStatusCode.BadGateway, CircuitState.Open)]
    public async Task OpenBreaker_AfterBreak_ProbeDecidesTheState(bool recovered, HttpStatusCode probeStatus, CircuitState after)
    {
        var clock = new FakeTimeProvider(TestClock.Start);
        var model = new ModelStub { Throw = true };
        await using var app = await StartAsync(clock, model);
        (await app.Client.PostAsync("/predict", null).WaitAsync(Wait)).Dispose();
        (await app.Client.PostAsync("/predict", null).WaitAsync(Wait)).Dispose();
        var circuit = app.Services.GetRequiredService<BreakerRegistry>().FindBreaker("local")!;
        Assert.Equal(CircuitState.Open, circuit.State);

        model.Throw = !recovered;
        clock.Advance(TimeSpan.FromSeconds(10));
        using var probe = await app.Client.PostAsync("/predict", null).WaitAsync(Wait);

        Assert.Equal(probeStatus, probe.StatusCode);
        Assert.Equal(after, circuit.State);
        Assert.Equal(3, model.Runs);
    }

    [Fact]
    public async Task SlowModel_PastAttemptTimeout_Answers504()
    {
        var clock = new FakeTimeProvider(TestClock.Start);
        var model = new ModelStub { Hang = true };
        await using var app = await StartAsync(clock, model);

        var pending = app.Client.PostAsync("/predict", null);
        await model.Started.Task.WaitAsync(Wait);
        Assert.False(pending.IsCompleted);
        clock.Advance(TimeSpan.FromSeconds(2));
        using var response = await pending.WaitAsync(Wait);

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.GatewayTimeout);
    }

    [Fact]
    public async Task ModelAnswering5xx_CountsAsFailure_ButKeepsItsAnswer()
    {
        var clock = new FakeTimeProvider(TestClock.Start);
        var model = new ModelStub { Status = 503 };
        await using var app = await StartAsync(clock, model);

        using var first = await app.Client.PostAsync("/predict", null).WaitAsync(Wait);
        using var second = await app.Client.PostAsync("/predict", null).WaitAsync(Wait);
        using var third = await app.Client.PostAsync("/predict", null).WaitAsync(Wait);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, first.StatusCode);
        Assert.Equal(2, model.Runs);
        await ProblemAssert.IsProblemAsync(third, HttpStatusCode.ServiceUnavailable);
        Assert.Equal(TimeSpan.FromSeconds(10), third.Headers.RetryAfter?.Delta);
    }

    [Fact]
    public async Task BreakerTransitions_AreReportedAsMetrics()
    {
        var states = new List<string>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == AiEdgeDiagnostics.MeterName && instrument.Name == "aiedge.breaker.transitions")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, _, tags, _) =>
        {
            string? breaker = null, state = null;
            foreach (var tag in tags)
            {
                if (tag.Key == AiEdgeDiagnostics.Tags.Breaker) breaker = tag.Value as string;
                if (tag.Key == AiEdgeDiagnostics.Tags.BreakerState) state = tag.Value as string;
            }

            if (breaker == "metered")
            {
                lock (states) states.Add(state!);
            }
        });
        listener.Start();
        var clock = new FakeTimeProvider(TestClock.Start);
        var model = new ModelStub { Throw = true };
        await using var app = await StartAsync(clock, model, Settings("metered"), "metered");

        (await app.Client.PostAsync("/predict", null).WaitAsync(Wait)).Dispose();
        (await app.Client.PostAsync("/predict", null).WaitAsync(Wait)).Dispose();
        model.Throw = false;
        clock.Advance(TimeSpan.FromSeconds(10));
        (await app.Client.PostAsync("/predict", null).WaitAsync(Wait)).Dispose();

        lock (states)
        {
            Assert.Equal(["open", "half_open", "closed"], states);
        }
    }

    [Fact]
    public async Task BreakerStateGauge_ReportsTheCurrentState()
    {
        var clock = new FakeTimeProvider(TestClock.Start);
        var model = new ModelStub { Throw = true };
        await using var app = await StartAsync(clock, model, Settings("gauged"), "gauged");
        (await app.Client.PostAsync("/predict", null).WaitAsync(Wait)).Dispose();
        (await app.Client.PostAsync("/predict", null).WaitAsync(Wait)).Dispose();
        var observed = new List<string>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == AiEdgeDiagnostics.MeterName && instrument.Name == "aiedge.breaker.state")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<int>((_, value, tags, _) =>
        {
            string? breaker = null, state = null;
            foreach (var tag in tags)
            {
                if (tag.Key == AiEdgeDiagnostics.Tags.Breaker) breaker = tag.Value as string;
                if (tag.Key == AiEdgeDiagnostics.Tags.BreakerState) state = tag.Value as string;
            }

            if (breaker == "gauged" && value == 1)
            {
                observed.Add(state!);
            }
        });
        listener.Start();

        listener.RecordObservableInstruments();

        Assert.Contains("open", observed);
    }

    [Fact]
    public async Task UnknownBreakerName_FailsStartup_NamingIt()
    {
        await StartupAssert.FailsAsync(
            () => StartAsync(new FakeTimeProvider(TestClock.Start), new ModelStub(), Settings("local"), "missing"),
            "AiEdge:Resilience:Breakers:missing is not configured, but endpoint 'HTTP: POST /predict'");
    }

    [Fact]
    public async Task MalformedBodyTheEndpointReads_IsA400_NotAModelFailure_AndNeverOpensTheBreaker()
    {
        var logs = new LogCapture();
        await using var app = await TestApp.StartKestrelAsync(
            builder =>
            {
                builder.Logging.AddProvider(logs);
                builder.Services.AddAiEdgeCore(edge => edge.AddResilience());
            },
            app =>
            {
                app.UseAiEdge();
                app.MapPost("/predict", static async (HttpContext context) =>
                {
                    using var document = await System.Text.Json.JsonDocument.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted);
                    return Results.Ok();
                }).WithCircuitBreaker("local");
            },
            Settings());

        // An overflowing chunk size (Kestrel's IOException) and a bad chunk line (BadHttpRequestException), past the
        // breaker's minimum throughput.
        foreach (var size in new[] { "999999999", "zz", "FFFFFFFFFFFFFFFFFFFF", "-1" })
        {
            await using var connection = await RawHttpConnection.OpenAsync(app.BaseAddress);
            await connection.SendAsync("POST /predict HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n" + size + "\r\n{}\r\n0\r\n\r\n");
            var response = await connection.ReadResponseAsync();
            Assert.Equal(400, response.StatusCode);
            Assert.Equal("application/problem+json", response.MediaType);
        }

        Assert.Equal(CircuitState.Closed, app.Services.GetRequiredService<BreakerRegistry>().FindBreaker("local")!.State);
        await app.App.StopAsync();
        Assert.Empty(logs.Errors());
    }

    private sealed class ModelStub
    {
        private int _runs;

        public bool Throw { get; set; }

        public bool Hang { get; set; }

        public int Status { get; set; } = 200;

        public int Runs => Volatile.Read(ref _runs);

        public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public async Task RunAsync(HttpContext context)
        {
            Interlocked.Increment(ref _runs);
            Started.TrySetResult();
            if (Hang)
            {
                await Task.Delay(Timeout.Infinite, context.RequestAborted);
            }

            if (Throw)
            {
                throw new InvalidOperationException("model crashed");
            }

            context.Response.StatusCode = Status;
            await context.Response.WriteAsync("ok");
        }
    }
}
