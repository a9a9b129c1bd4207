using System.Diagnostics;
using System.Net;
using AiEdge.Middleware.Caching.Internal;
using AiEdge.Middleware.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Xunit.Abstractions;

namespace AiEdge.Middleware.Caching.Tests;

/// <summary>
/// Work nobody waits for stops, and work someone waits for does not: the run of a coalesced miss goes on when the
/// leader's client leaves while a follower still waits, its answer serves that follower, and it is cancelled at once
/// when the last waiting client has gone (Kestrel, real disconnects).
/// </summary>
public sealed class SharedRunCancellationTests(ITestOutputHelper output)
{
    private const string Body = """{"model":"m","input":"shared"}""";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task SharedRun_GoesOnWhileAFollowerWaits_AndIsCancelledPromptlyWhenTheLastClientLeaves()
    {
        var runs = 0;
        HttpContext? leaderContext = null;
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var abortedAt = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var app = await CachingHost.StartAsync(
            a => a.MapPost("/predict", async (HttpContext context) =>
            {
                Interlocked.Increment(ref runs);
                leaderContext = context;
                entered.TrySetResult();
                try
                {
                    await Task.Delay(System.Threading.Timeout.InfiniteTimeSpan, context.RequestAborted);
                }
                catch (OperationCanceledException)
                {
                    abortedAt.TrySetResult(Stopwatch.GetTimestamp());
                    throw;
                }
            }).WithPredictionCache(),
            cache: static options => options.Anonymous = AnonymousCaching.Shared,
            kestrel: true);
        using var coalesced = new CachingHost.InstrumentCounter(app.Services, "aiedge.cache.coalesced", 1);
        using var leaderClient = new CancellationTokenSource();
        using var followerClient = new CancellationTokenSource();

        var leader = app.Client.SendAsync(CachingHost.Post("/predict", Body), leaderClient.Token);
        await entered.Task.WaitAsync(Timeout);
        var follower = app.Client.SendAsync(CachingHost.Post("/predict", Body), followerClient.Token);
        await coalesced.Reached.WaitAsync(Timeout);
        var run = Assert.IsType<SharedRun>(leaderContext!.Features.Get<IHttpRequestLifetimeFeature>());
        await UntilAsync(() => run.Waiters == 1, "the follower waits for the run");

        leaderClient.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => leader);
        await UntilAsync(() => run.LeaderGone, "the server saw the leader's client leave");
        Assert.False(abortedAt.Task.IsCompleted, "The run was cancelled while a follower still waited for it.");

        var lastDisconnect = Stopwatch.GetTimestamp();
        followerClient.Cancel();
        var sawAbort = await abortedAt.Task.WaitAsync(Timeout);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => follower);
        var elapsed = Stopwatch.GetElapsedTime(lastDisconnect, sawAbort);
        output.WriteLine($"last disconnect to the handler seeing the abort: {elapsed.TotalMilliseconds:0.###} ms");
        Assert.True(elapsed < TimeSpan.FromSeconds(1), $"The run saw the abort {elapsed.TotalMilliseconds} ms after the last client left.");
        Assert.Equal(1, runs);
    }

    [Fact]
    public async Task SharedRun_WhoseLeaderLeft_AnswersTheWaitingFollower_FromOneRun()
    {
        var runs = 0;
        HttpContext? leaderContext = null;
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var app = await CachingHost.StartAsync(
            a => a.MapPost("/predict", async (HttpContext context) =>
            {
                var run = Interlocked.Increment(ref runs);
                leaderContext = context;
                entered.TrySetResult();
                await release.Task.WaitAsync(context.RequestAborted);
                context.Response.ContentType = "application/json";
                await context.Response.WriteAsync("{\"run\":" + run + "}");
            }).WithPredictionCache(),
            cache: static options => options.Anonymous = AnonymousCaching.Shared,
            kestrel: true);
        using var coalesced = new CachingHost.InstrumentCounter(app.Services, "aiedge.cache.coalesced", 1);
        using var leaderClient = new CancellationTokenSource();

        var leader = app.Client.SendAsync(CachingHost.Post("/predict", Body), leaderClient.Token);
        await entered.Task.WaitAsync(Timeout);
        var follower = app.Client.SendAsync(CachingHost.Post("/predict", Body));
        await coalesced.Reached.WaitAsync(Timeout);
        var run = Assert.IsType<SharedRun>(leaderContext!.Features.Get<IHttpRequestLifetimeFeature>());
        await UntilAsync(() => run.Waiters == 1, "the follower waits for the run");

        leaderClient.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => leader);
        await UntilAsync(() => run.LeaderGone, "the server saw the leader's client leave");
        release.SetResult();

        using var answer = await follower.WaitAsync(Timeout);
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Equal("{\"run\":1}", await answer.Content.ReadAsStringAsync());
        Assert.Equal("HIT", CachingHost.XCache(answer));
        Assert.Equal(1, runs);
    }

    [Fact]
    public async Task SharedRun_Reused_AfterACancelledRunAndAfterFollowersLeft_StartsUncancelledAndServesItsOwnKey()
    {
        // Runs are pooled: after a run whose only client left (cancelled), and after runs whose followers were answered,
        // every later run starts with a token nobody cancelled and answers its own key.
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var sawAbort = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var cancelledAtStart = 0;
        await using var app = await CachingHost.StartAsync(
            a => a.MapPost("/predict/{id}", async (HttpContext context, string id) =>
            {
                if (context.RequestAborted.IsCancellationRequested)
                {
                    Interlocked.Increment(ref cancelledAtStart);
                }

                if (id == "abandoned")
                {
                    entered.TrySetResult();
                    try
                    {
                        await Task.Delay(System.Threading.Timeout.InfiniteTimeSpan, context.RequestAborted);
                    }
                    catch (OperationCanceledException)
                    {
                        sawAbort.TrySetResult();
                        throw;
                    }
                }

                await Task.Yield();
                context.Response.ContentType = "application/json";
                await context.Response.WriteAsync("{\"id\":\"" + id + "\"}", context.RequestAborted);
            }).WithPredictionCache(),
            cache: static options => options.Anonymous = AnonymousCaching.Shared,
            kestrel: true);

        using (var gone = new CancellationTokenSource())
        {
            var abandoned = app.Client.SendAsync(CachingHost.Post("/predict/abandoned", Body), gone.Token);
            await entered.Task.WaitAsync(Timeout);
            gone.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => abandoned);
            await sawAbort.Task.WaitAsync(Timeout);
        }

        for (var round = 0; round < 20; round++)
        {
            // Four clients per key, so most runs have followers that join and leave.
            var requests = new Task<HttpResponseMessage>[16];
            for (var i = 0; i < requests.Length; i++)
            {
                var path = "/predict/r" + round + "k" + (i % 4);
                requests[i] = Task.Run(() => app.Client.SendAsync(CachingHost.Post(path, Body)));
            }

            var answers = await Task.WhenAll(requests).WaitAsync(Timeout);
            for (var i = 0; i < answers.Length; i++)
            {
                using var answer = answers[i];
                Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
                Assert.Equal("{\"id\":\"r" + round + "k" + (i % 4) + "\"}", await answer.Content.ReadAsStringAsync());
            }
        }

        Assert.Equal(0, cancelledAtStart);
    }

    private static async Task UntilAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "Timed out waiting until " + what + ".");
            await Task.Delay(1);
        }
    }
}
