using System.Net;
using System.Text.Json;
using AiEdge.Middleware.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace AiEdge.Middleware.Caching.Tests;

/// <summary>The in-memory store's byte bound (<c>AiEdge:Idempotency:SizeLimit</c>) through a real host.</summary>
public sealed class IdempotencyStoreBoundIntegrationTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private sealed class Trainer
    {
        private readonly TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _runs;
        private int _waiting;

        public int Runs => Volatile.Read(ref _runs);

        public bool Gated { get; init; }

        public TaskCompletionSource TwoWaiting { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Open() => _gate.TrySetResult();

        public async Task<IResult> Train(HttpContext context)
        {
            Interlocked.Increment(ref _runs);
            if (Gated)
            {
                if (Interlocked.Increment(ref _waiting) == 2)
                {
                    TwoWaiting.TrySetResult();
                }

                await _gate.Task;
            }

            return Results.Accepted(value: new { job = Guid.NewGuid().ToString("n") });
        }
    }

    private static string[] Messages(LogCapture log)
        => [.. log.WithId(1254).Select(static e => e.Level + ": " + e.Message)];

    private static Task<TestApp> StartAsync(Trainer trainer, long sizeLimit, TimeProvider? time = null, ILoggerProvider? logs = null)
        => CachingHost.StartAsync(
            app => app.MapPost("/train", (Delegate)trainer.Train).WithIdempotency(),
            time: time,
            services: services =>
            {
                if (logs is not null)
                {
                    services.AddSingleton(logs);
                }
            },
            configuration: new Dictionary<string, string?> { ["AiEdge:Idempotency:SizeLimit"] = sizeLimit.ToString(System.Globalization.CultureInfo.InvariantCulture) });

    private static Task<HttpResponseMessage> SendAsync(TestApp app, string key)
        => app.Client.SendAsync(CachingHost.Post("/train", """{"dataset":"d"}""", ("Idempotency-Key", "\"" + key + "\"")));

    private static async Task<string> JobAsync(HttpResponseMessage response)
        => JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("job").GetString()!;

    [Fact]
    public async Task Retry_AfterItsRecordWasEvicted_RunsAgainAsNew_WhileRecentKeysStillReplay()
    {
        var trainer = new Trainer();
        await using var app = await StartAsync(trainer, 4096);
        using var bytes = new CachingHost.InstrumentCounter(app.Services, "aiedge.idempotency.stored_bytes", long.MaxValue);
        using var evictions = new CachingHost.InstrumentCounter(app.Services, "aiedge.idempotency.evictions", long.MaxValue);

        using var first = await SendAsync(app, "k-0").WaitAsync(Timeout);
        var job = await JobAsync(first);
        for (var i = 1; i < 20; i++)
        {
            using var other = await SendAsync(app, "k-" + i).WaitAsync(Timeout);
            Assert.Equal(HttpStatusCode.Accepted, other.StatusCode);
            Assert.True(bytes.Count <= 4096, $"the store holds {bytes.Count} bytes");
        }

        using var recent = await SendAsync(app, "k-19").WaitAsync(Timeout);
        using var retry = await SendAsync(app, "k-0").WaitAsync(Timeout);

        Assert.Equal("true", recent.Headers.GetValues("Idempotent-Replayed").Single());
        Assert.Equal(HttpStatusCode.Accepted, retry.StatusCode);
        Assert.False(retry.Headers.Contains("Idempotent-Replayed"));
        Assert.NotEqual(job, await JobAsync(retry));
        Assert.Equal(21, trainer.Runs);
        Assert.True(evictions.Count >= 10, $"{evictions.Count} evictions");
    }

    [Fact]
    public async Task NewKey_WhenTheStoreHoldsOnlyRunningRequests_Is503WithRetryAfter_AndRunningKeysAreKept()
    {
        // Two running claims (about 430 bytes each) fit in 1000 bytes; a third does not.
        var trainer = new Trainer { Gated = true };
        var time = new FakeTimeProvider(TestClock.Start);
        var log = new LogCapture();
        await using var app = await StartAsync(trainer, 1000, time, log);

        var a = SendAsync(app, "a");
        var b = SendAsync(app, "b");
        await trainer.TwoWaiting.Task.WaitAsync(Timeout);

        using var refused = await SendAsync(app, "c").WaitAsync(TimeSpan.FromSeconds(10));
        using var refusedAgain = await SendAsync(app, "d").WaitAsync(Timeout);
        using var duplicate = await SendAsync(app, "a").WaitAsync(Timeout);

        var problem = await ProblemAssert.IsProblemAsync(refused, HttpStatusCode.ServiceUnavailable);
        Assert.Equal("Idempotency store full", problem.GetProperty("title").GetString());
        Assert.Equal(TimeSpan.FromSeconds(1), refused.Headers.RetryAfter?.Delta);
        await ProblemAssert.IsProblemAsync(refusedAgain, HttpStatusCode.ServiceUnavailable);
        await ProblemAssert.IsProblemAsync(duplicate, HttpStatusCode.Conflict);   // still held: never evicted
        Assert.Equal(2, trainer.Runs);

        // One warning a minute, not one a request, with the number refused since the last one.
        Assert.Equal(["Warning: The idempotency store is at its SizeLimit with only running requests in it; requests with a new key refused with 503 since the last report: 1."], Messages(log));
        time.Advance(TimeSpan.FromSeconds(61));
        using var refusedLater = await SendAsync(app, "e").WaitAsync(Timeout);
        await ProblemAssert.IsProblemAsync(refusedLater, HttpStatusCode.ServiceUnavailable);
        Assert.Equal(2, Messages(log).Length);
        Assert.EndsWith("since the last report: 2.", Messages(log)[1]);

        trainer.Open();
        using var ra = await a.WaitAsync(Timeout);
        using var rb = await b.WaitAsync(Timeout);
        Assert.Equal(HttpStatusCode.Accepted, ra.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, rb.StatusCode);

        // Room is free again: the refused key's retry runs.
        using var retry = await SendAsync(app, "c").WaitAsync(Timeout);
        Assert.Equal(HttpStatusCode.Accepted, retry.StatusCode);
        Assert.Equal(3, trainer.Runs);
    }
}
