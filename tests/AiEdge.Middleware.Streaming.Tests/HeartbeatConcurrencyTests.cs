using System.Text;
using AiEdge.Middleware.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace AiEdge.Middleware.Streaming.Tests;

/// <summary>
/// Heartbeats against the application's own writes under real concurrency (Kestrel on loopback, many writer tasks,
/// a fake clock advanced by another task so heartbeats fall due all the time), and the heartbeat timer's lifetime
/// on every way a stream can end. Time moves only through <see cref="FakeTimeProvider.Advance"/>.
/// </summary>
public sealed class HeartbeatConcurrencyTests
{
    private const string Heartbeat = ": keep-alive";
    private const int Writers = 8;
    private const int EventsPerWriter = 150;

    [Fact]
    public async Task ConcurrentWriters_TinyHeartbeatInterval_EveryEventWholeAndInOrder()
    {
        var time = new FakeTimeProvider(TestClock.Start);
        long heartbeats = 0;
        await using var app = await StreamingHost.StartAsync(
            app => app.MapGet("/sse", async (HttpContext context) =>
            {
                context.Response.ContentType = "text/event-stream";
                await context.Response.StartAsync(context.RequestAborted);
                var writers = new Task[Writers];
                for (var w = 0; w < Writers; w++)
                {
                    var writer = w;
                    writers[w] = Task.Run(() => WriteEventsAsync(context, time, writer));
                }

                await Task.WhenAll(writers);
            }).WithStreaming(TimeSpan.FromMilliseconds(1)),
            time: time);
        using var listener = app.Listen("aiedge.stream.heartbeats", (value, _) => Interlocked.Add(ref heartbeats, value));

        using var response = await app.GetStreamAsync("/sse");
        var body = ReadAllAsync(await response.Content.ReadAsStreamAsync());

        // Another thread keeps the clock moving past the interval while the writers write: heartbeats fall due
        // between, and try to take the lock against, the writers' events.
        while (!body.IsCompleted)
        {
            time.Advance(TimeSpan.FromMilliseconds(1));
            await Task.Yield();
        }

        var blocks = (await body).Split("\n\n");
        Assert.Equal(string.Empty, blocks[^1]);
        var next = new int[Writers];
        var events = 0;
        foreach (var block in blocks.AsSpan(0, blocks.Length - 1))
        {
            if (block == Heartbeat)
            {
                continue;
            }

            // Whole: exactly the three lines one write carried, none cut by a heartbeat or another writer.
            var lines = block.Split('\n');
            Assert.True(lines.Length == 3, $"A torn event: \"{block}\"");
            Assert.StartsWith("id: ", lines[0], StringComparison.Ordinal);
            var id = lines[0]["id: ".Length..].Split('-');
            var (writer, sequence) = (int.Parse(id[0]), int.Parse(id[1]));
            Assert.Equal($"event: w{writer}", lines[1]);
            Assert.Equal($"data: {{\"writer\":{writer},\"n\":{sequence}}}", lines[2]);

            // In order: each writer's events arrive in the order it wrote them, none lost.
            Assert.Equal(next[writer], sequence);
            next[writer]++;
            events++;
        }

        Assert.Equal(Writers * EventsPerWriter, events);
        Assert.All(next, count => Assert.Equal(EventsPerWriter, count));
        Assert.True(Interlocked.Read(ref heartbeats) > 0, "No heartbeat fell due while the writers wrote.");
    }

    [Fact]
    public async Task EventsWrittenInPieces_TinyHeartbeatInterval_NoHeartbeatInsideAnEvent()
    {
        var time = new FakeTimeProvider(TestClock.Start);
        await using var app = await StreamingHost.StartAsync(
            app => app.MapGet("/sse", async (HttpContext context) =>
            {
                context.Response.ContentType = "text/event-stream";
                await context.Response.StartAsync(context.RequestAborted);
                var body = context.Response.Body;
                for (var n = 0; n < 300; n++)
                {
                    // Mid-event the stream is silent for a whole interval every time (the writer moves the clock
                    // itself), while the test's thread moves it as well.
                    await body.WriteAsync(Encoding.UTF8.GetBytes($"event: piece\n"), context.RequestAborted);
                    time.Advance(TimeSpan.FromMilliseconds(1));
                    await body.WriteAsync(Encoding.UTF8.GetBytes($"data: {n}"), context.RequestAborted);
                    time.Advance(TimeSpan.FromMilliseconds(1));
                    await body.WriteAsync("\n\n"u8.ToArray(), context.RequestAborted);

                    // And between two events, where a heartbeat belongs.
                    time.Advance(TimeSpan.FromMilliseconds(1));
                    await Task.Yield();
                }
            }).WithStreaming(TimeSpan.FromMilliseconds(1)),
            time: time);

        using var response = await app.GetStreamAsync("/sse");
        var body = ReadAllAsync(await response.Content.ReadAsStreamAsync());
        while (!body.IsCompleted)
        {
            time.Advance(TimeSpan.FromMilliseconds(1));
            await Task.Yield();
        }

        var expected = 0;
        var heartbeats = 0;
        foreach (var block in (await body).Split("\n\n", StringSplitOptions.RemoveEmptyEntries))
        {
            if (block == Heartbeat)
            {
                heartbeats++;
            }
            else
            {
                Assert.Equal($"event: piece\ndata: {expected++}", block);
            }
        }

        Assert.Equal(300, expected);
        Assert.True(heartbeats > 0, "No heartbeat fell due between the events.");
    }

    public static TheoryData<string> Endings => ["completed", "exception", "client-abort"];

    [Theory]
    [MemberData(nameof(Endings))]
    public async Task StreamEnds_HeartbeatTimerReleased(string ending)
    {
        var time = new TimerCountingTimeProvider();
        var requestEnded = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var app = await StreamingHost.StartAsync(
            app => app.MapGet("/sse", async (HttpContext context) =>
            {
                context.Response.ContentType = "text/event-stream";
                await context.Response.WriteAsync("data: one\n\n", context.RequestAborted);
                await release.Task.WaitAsync(context.RequestAborted);
                if (ending == "exception")
                {
                    throw new InvalidOperationException("The model failed mid-stream.");
                }
            }),
            time: time,
            services: builder => builder.Services.AddSingleton<IStartupFilter>(new SignalRequestEnd(requestEnded)));
        var before = time.LiveTimers;

        var response = await app.GetStreamAsync("/sse");
        var reader = new StreamingEventReader(await response.Content.ReadAsStreamAsync());
        Assert.Equal("data: one", await reader.ReadBlockAsync());
        Assert.Equal(before + 1, time.LiveTimers);

        // A heartbeat while the stream waits, so the timer has run (and re-armed itself) before the end.
        time.Advance(StreamingDefaults.HeartbeatInterval);
        Assert.Equal(Heartbeat, await reader.ReadBlockAsync());

        if (ending == "client-abort")
        {
            response.Dispose();
        }
        else
        {
            release.SetResult();
        }

        await requestEnded.Task.WaitAsync(StreamingEventReader.DefaultTimeout);
        Assert.Equal(before, time.LiveTimers);

        // Due times after the end write nothing and throw nothing.
        time.Advance(TimeSpan.FromMinutes(5));
        Assert.Equal(before, time.LiveTimers);
        response.Dispose();
    }

    private static async Task WriteEventsAsync(HttpContext context, FakeTimeProvider time, int writer)
    {
        var body = context.Response.Body;
        for (var n = 0; n < EventsPerWriter; n++)
        {
            var bytes = Encoding.UTF8.GetBytes($"id: {writer}-{n}\nevent: w{writer}\ndata: {{\"writer\":{writer},\"n\":{n}}}\n\n");
            await body.WriteAsync(bytes, context.RequestAborted);
            if (n % 8 == 0)
            {
                // The writers move the clock too, so heartbeats also fall due (and run) on a writer's thread while
                // the other writers write, however the threads are scheduled.
                time.Advance(TimeSpan.FromMilliseconds(1));
                await Task.Yield();
            }
        }
    }

    private static async Task<string> ReadAllAsync(Stream stream)
    {
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return await reader.ReadToEndAsync().WaitAsync(StreamingEventReader.DefaultTimeout);
    }

    /// <summary>Puts a middleware in front of the whole pipeline that signals when a request has left it.</summary>
    private sealed class SignalRequestEnd(TaskCompletionSource ended) : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use(async (context, inner) =>
            {
                try
                {
                    await inner(context);
                }
                catch (InvalidOperationException)
                {
                    // The "exception" ending: the handler's failure, past the stage.
                }
                finally
                {
                    ended.TrySetResult();
                }
            });
            next(app);
        };
    }
}
