using System.Net;
using AiEdge.Middleware.Testing;
using FsCheck;
using FsCheck.Fluent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace AiEdge.Middleware.Concurrency.Tests;

/// <summary>
/// No slot is ever leaked: random mixes of requests that complete, throw, cancel themselves, hang until their client
/// leaves, stream until their client leaves or give up at once, through a real host with real concurrency, always
/// leave the tier with nothing in flight, nothing queued and no lease in the store.
/// </summary>
public sealed class SlotLeakPropertyTests
{
    private enum Behaviour
    {
        Complete,
        Throw,
        ThrowCancelled,
        HangUntilClientLeaves,
        StreamUntilClientLeaves,
        ClientLeavesAtOnce,
    }

    private static readonly Gen<(Behaviour[] Requests, int[] LeaveOrder)> Cases =
        from count in Gen.Choose(1, 14)
        from kinds in Gen.Elements(Enum.GetValues<Behaviour>()).ArrayOf(count)
        from order in Gen.Shuffle(Enumerable.Range(0, count).ToArray())
        select (kinds, order);

    [Fact]
    public async Task RandomAbortsExceptionsAndTimeouts_NeverLeakASlot()
    {
        var time = new FakeTimeProvider(TestClock.Start);
        await using var app = await ConcurrencyHost.StartAsync(
            time,
            o => o.AddTier("generate", t => { t.Limit = 2; t.QueueLimit = 4; t.QueueTimeout = TimeSpan.FromSeconds(10); }),
            a => a.MapGet("/gen", Endpoint).WithConcurrencyTier("generate"));
        var store = app.Services.GetRequiredService<IConcurrencyStore>();
        var tier = app.Tier("generate");

        var property = Prop.ForAll(Arb.From(Cases), testCase =>
        {
            RunCaseAsync(app, time, testCase.Requests, testCase.LeaveOrder).GetAwaiter().GetResult();

            // A request whose client left at once may reach the server after the case settled: wait (with a deadline,
            // so a leaked slot or lease still fails) until nothing is in flight, queued or leased.
            ConcurrencyHost.UntilAsync(
                () => tier.Totals() == (0, 0) && tier.Shared!.Users == 0
                    && store.CountAsync(tier.Shared.Key, CancellationToken.None).AsTask().GetAwaiter().GetResult() == 0,
                () => "no slot, waiter or lease is left (in flight and queued " + tier.Totals() + ", users " + tier.Shared!.Users + ")").GetAwaiter().GetResult();
            var (inFlight, queued) = tier.Totals();
            var leases = store.CountAsync(tier.Shared!.Key, CancellationToken.None).AsTask().GetAwaiter().GetResult();
            return inFlight == 0 && queued == 0 && leases == 0 && tier.Shared.Users == 0;
        });
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(40), property);
    }

    private static async Task RunCaseAsync(TestApp app, FakeTimeProvider time, Behaviour[] requests, int[] leaveOrder)
    {
        var clients = new CancellationTokenSource[requests.Length];
        var sends = new Task<HttpResponseMessage>[requests.Length];
        for (var i = 0; i < requests.Length; i++)
        {
            clients[i] = new CancellationTokenSource();
            sends[i] = app.SendAsync("/gen?b=" + (int)requests[i], cancellationToken: clients[i].Token);
            if (requests[i] == Behaviour.ClientLeavesAtOnce)
            {
                clients[i].Cancel();
            }
        }

        // Let everything that can finish finish; the rest hang in the endpoint or wait in the queue.
        var tier = app.Tier("generate");
        await ConcurrencyHost.UntilAsync(
            () =>
            {
                var (inFlight, queued) = tier.Totals();
                var done = 0;
                foreach (var send in sends)
                {
                    done += send.IsCompleted ? 1 : 0;
                }

                return done + inFlight + queued >= requests.Length;
            },
            "the case settled");

        // Clients leave in a random order, wherever their request is (running, streaming or queued).
        foreach (var index in leaveOrder)
        {
            if (sends[index].IsCompletedSuccessfully)
            {
                sends[index].Result.Dispose();
            }

            clients[index].Cancel();
        }

        // Whatever still waits times out.
        time.Advance(TimeSpan.FromSeconds(10));
        foreach (var send in sends)
        {
            try
            {
                (await send).Dispose();
            }
            catch (OperationCanceledException)
            {
            }
            catch (HttpRequestException)
            {
            }
        }

        await ConcurrencyHost.UntilAsync(
            () => tier.Totals() == (0, 0) && tier.Shared!.Users == 0,
            () => "every slot came back (in flight and queued " + tier.Totals() + ", users " + tier.Shared!.Users + ")");
        foreach (var client in clients)
        {
            client.Dispose();
        }
    }

    private static async Task Endpoint(HttpContext context)
    {
        var aborted = context.RequestAborted;
        switch ((Behaviour)int.Parse(context.Request.Query["b"].ToString(), System.Globalization.CultureInfo.InvariantCulture))
        {
            case Behaviour.Throw:
                await Task.Yield();
                throw new InvalidOperationException("The model failed.");
            case Behaviour.ThrowCancelled:
                await Task.Yield();
                throw new OperationCanceledException("The model gave up.");
            case Behaviour.HangUntilClientLeaves:
                await Task.Delay(Timeout.InfiniteTimeSpan, aborted);
                return;
            case Behaviour.StreamUntilClientLeaves:
                context.Response.ContentType = "text/event-stream";
                await context.Response.WriteAsync("data: 1\n\n", aborted);
                await context.Response.Body.FlushAsync(aborted);
                await Task.Delay(Timeout.InfiniteTimeSpan, aborted);
                return;
            default:
                await Task.Yield();
                await context.Response.WriteAsync("ok", aborted);
                return;
        }
    }
}
