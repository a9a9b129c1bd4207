using System.Diagnostics.Metrics;
using System.Net;
using AiEdge.Middleware.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace AiEdge.Middleware.RateLimiting.Tests;

/// <summary>A full partition table (NGINX's full zone) through a real host: live buckets are kept, new partitions refused.</summary>
public sealed class PartitionTableIntegrationTests
{
    private static Task<TestApp> StartAsync(FakeTimeProvider time, int maxPartitions, string rate, int burst = 0, ILoggerProvider? logs = null)
        => RateLimitHost.StartAsync(
            time,
            o =>
            {
                o.MaxPartitions = maxPartitions;
                o.AddTier("spray", t =>
                {
                    t.Rate = rate;
                    t.Burst = burst;
                });
            },
            app => app.MapGet("/limited", () => "ok").WithRateLimitTier("spray"),
            services: logs is null ? null : services => services.AddLogging(b => b.AddProvider(logs)));

    private static string Ip(int i) => "10." + ((i >> 16) & 0xFF) + "." + ((i >> 8) & 0xFF) + "." + (i & 0xFF);

    [Fact]
    public async Task FullTable_HundredThousandNewPartitions_ExhaustedClientStaysRefusedUntilDrained()
    {
        var time = new FakeTimeProvider(TestClock.Start);
        await using var app = await StartAsync(time, maxPartitions: 1000, rate: "1r/m");

        // Only this app's meter: other tests run in parallel and report through meters of their own.
        var meters = app.Services.GetRequiredService<IMeterFactory>();
        long tableFull = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Name is "aiedge.ratelimit.table_full" or "aiedge.ratelimit.partitions" && ReferenceEquals(instrument.Meter.Scope, meters))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        var tableSizes = new List<long>();
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            if (instrument.Name == "aiedge.ratelimit.partitions")
            {
                lock (tableSizes)
                {
                    tableSizes.Add(value);
                }

                return;
            }

            foreach (var tag in tags)
            {
                if (tag.Key == "aiedge.ratelimit.tier" && (string?)tag.Value == "spray")
                {
                    Interlocked.Add(ref tableFull, value);
                }
            }
        });
        listener.Start();

        using (var first = await app.SendAsync("/limited", ip: "192.0.2.1"))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        }

        using (var exhausted = await app.SendAsync("/limited", ip: "192.0.2.1"))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, exhausted.StatusCode);
        }

        // 100,000 new partitions, four at a time.
        var statuses = new int[4, 2];
        var workers = Enumerable.Range(0, 4).Select(async worker =>
        {
            for (var i = worker; i < 100_000; i += 4)
            {
                using var response = await app.SendAsync("/limited", ip: Ip(i + 1));
                statuses[worker, response.StatusCode == HttpStatusCode.OK ? 0 : 1]++;
            }
        }).ToArray();
        await Task.WhenAll(workers).WaitAsync(TimeSpan.FromMinutes(3));
        var admitted = statuses[0, 0] + statuses[1, 0] + statuses[2, 0] + statuses[3, 0];
        Assert.Equal(999, admitted);

        // Two seconds later the exhausted client is still refused by its own quota (its bucket was kept)...
        time.Advance(TimeSpan.FromSeconds(2));
        using (var still = await app.SendAsync("/limited", ip: "192.0.2.1"))
        {
            var problem = await ProblemAssert.IsProblemAsync(still, HttpStatusCode.TooManyRequests);
            Assert.Equal(RateLimitingDefaults.QuotaExceededProblemType, problem.GetProperty("type").GetString());
            Assert.Equal("61", still.Header("Retry-After"));
        }

        // ...and a new partition is refused because the table is full, until a bucket can be idle.
        using (var newcomer = await app.SendAsync("/limited", ip: "198.51.100.7"))
        {
            var problem = await ProblemAssert.IsProblemAsync(newcomer, HttpStatusCode.TooManyRequests);
            Assert.Equal(RateLimitingDefaults.ReducedCapacityProblemType, problem.GetProperty("type").GetString());
            Assert.Equal("spray", problem.GetProperty("violated-policies")[0].GetString());
            Assert.Equal("61", newcomer.Header("Retry-After"));
            Assert.Equal("\"spray\";r=0;t=61", newcomer.Header("RateLimit"));
        }

        Assert.Equal(100_000 - 999 + 1, Interlocked.Read(ref tableFull));
        listener.RecordObservableInstruments();
        lock (tableSizes)
        {
            Assert.Contains(1000L, tableSizes);
        }

        // 1r/m drains one request in 62.5 s (NGINX keeps 16 milli-requests per ms): then the client is admitted.
        time.Advance(TimeSpan.FromMilliseconds(62_500 - 2_000 - 1));
        using (var early = await app.SendAsync("/limited", ip: "192.0.2.1"))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, early.StatusCode);
        }

        time.Advance(TimeSpan.FromMilliseconds(1));
        using var drained = await app.SendAsync("/limited", ip: "192.0.2.1");
        Assert.Equal(HttpStatusCode.OK, drained.StatusCode);
    }

    [Fact]
    public async Task FullTable_IdleBucketsMakeRoom_ForNewPartitions()
    {
        var time = new FakeTimeProvider(TestClock.Start);
        await using var app = await StartAsync(time, maxPartitions: 10, rate: "10r/s", burst: 3);
        for (var i = 0; i < 10; i++)
        {
            using var response = await app.SendAsync("/limited", ip: Ip(i));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        using (var full = await app.SendAsync("/limited", ip: "198.51.100.1"))
        {
            await ProblemAssert.IsProblemAsync(full, HttpStatusCode.TooManyRequests);
            Assert.Equal("1", full.Header("Retry-After"));
        }

        // 10r/s: each bucket (excess 0) is idle 100 ms later, and forgetting it changes no decision.
        time.Advance(TimeSpan.FromMilliseconds(100));
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 10; i++)
        {
            using var response = await app.SendAsync("/limited", ip: "198.51.100." + (i + 1));
            statuses.Add(response.StatusCode);
        }

        Assert.All(statuses, s => Assert.Equal(HttpStatusCode.OK, s));
    }

    [Fact]
    public async Task FullTable_RefusalsAreLoggedAtMostOncePerTenSeconds()
    {
        var time = new FakeTimeProvider(TestClock.Start);
        var logs = new LogCapture();
        await using var app = await StartAsync(time, maxPartitions: 2, rate: "1r/m", logs: logs);
        await app.SendManyAsync("/limited", 1, ip: "192.0.2.1");
        await app.SendManyAsync("/limited", 1, ip: "192.0.2.2");

        for (var i = 0; i < 50; i++)
        {
            using var refused = await app.SendAsync("/limited", ip: Ip(i + 100));
            Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        }

        Assert.Equal([1L], Refused(logs));

        time.Advance(TimeSpan.FromSeconds(10));
        using (var refused = await app.SendAsync("/limited", ip: "198.51.100.1"))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        }

        // One line per interval, carrying the refusals since the previous line.
        Assert.Equal([1L, 50L], Refused(logs));
    }

    // The refusal counts the table-full warnings (1106) report; every one of them is a Warning.
    private static long[] Refused(LogCapture logs)
    {
        var entries = logs.WithId(1106);
        Assert.All(entries, static e => Assert.Equal(LogLevel.Warning, e.Level));
        return [.. entries.Select(static e => (long)e.Value("Refused")!)];
    }
}
