using AiEdge.Middleware.Concurrency.Internal;
using AiEdge.Middleware.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace AiEdge.Middleware.Concurrency.Tests;

/// <summary>Starts a real host with concurrency tiers, a clock of the test's choosing and the <see cref="TestCaller"/> headers.</summary>
internal static class ConcurrencyHost
{
    public static Task<TestApp> StartAsync(
        TimeProvider time,
        Action<ConcurrencyOptions>? configure,
        Action<WebApplication> map,
        IDictionary<string, string?>? configuration = null,
        bool kestrel = false,
        Action<IAiEdgeBuilder>? edge = null,
        Action<IServiceCollection>? services = null)
        => TestApp.StartEdgeAsync(
            builder =>
            {
                edge?.Invoke(builder);
                builder.AddConcurrency(configure);
            },
            map,
            new TestAppOptions
            {
                Configuration = configuration,
                Time = time,
                Services = services is null ? null : builder => services(builder.Services),
                Before = static app => app.UseTestCaller(),
                Kestrel = kestrel,
            });

    public static async Task<HttpResponseMessage> SendAsync(this TestApp app, string path, string? user = null, string? plan = null, string? ip = null, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (ip is not null)
        {
            request.Headers.Add(TestCaller.IpHeader, ip);
        }

        if (user is not null)
        {
            request.Headers.Add(TestCaller.UserHeader, user);
        }

        if (plan is not null)
        {
            request.Headers.Add(TestCaller.PlanHeader, plan);
        }

        var send = app.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        try
        {
            return await send.WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // A client that leaves closes what it was sent: a response whose headers arrived just as it left would
            // otherwise stay open, and its stream would hold the slot for ever.
            _ = send.ContinueWith(static t => t.Result.Dispose(), CancellationToken.None, TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);
            throw;
        }
    }

    public static TierState Tier(this TestApp app, string name)
    {
        Assert.True(app.Services.GetRequiredService<ConcurrencyTierRegistry>().TryGet(name, out var tier));
        return tier;
    }

    /// <summary>Waits (by polling, with a deadline) until <paramref name="condition"/> holds: for the host's own threads, not for time.</summary>
    public static Task UntilAsync(Func<bool> condition, string what) => UntilAsync(condition, () => what);

    /// <summary>As <see cref="UntilAsync(Func{bool}, string)"/>, describing the state when the deadline passes.</summary>
    public static async Task UntilAsync(Func<bool> condition, Func<string> what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail("Timed out waiting until " + what() + ".");
            }

            await Task.Yield();
            await Task.Delay(1);
        }
    }

    public static Task QueuedAsync(this TestApp app, string tier, int queued)
        => UntilAsync(() => app.Tier(tier).Totals().Queued == queued, tier + " has " + queued + " queued");

    public static Task InFlightAsync(this TestApp app, string tier, int inFlight)
        => UntilAsync(() => app.Tier(tier).Totals().InFlight == inFlight, tier + " has " + inFlight + " in flight");
}

/// <summary>An endpoint body the test releases: each request waits for one <see cref="Release"/> (or all with <see cref="ReleaseAll"/>).</summary>
internal sealed class Valve
{
    private readonly SemaphoreSlim _gate = new(0);
    private int _entered;

    public int Entered => Volatile.Read(ref _entered);

    public Task PassAsync(CancellationToken aborted)
    {
        Interlocked.Increment(ref _entered);
        return _gate.WaitAsync(aborted);
    }

    public void Release(int count = 1) => _gate.Release(count);

    public void ReleaseAll() => _gate.Release(1000);
}
