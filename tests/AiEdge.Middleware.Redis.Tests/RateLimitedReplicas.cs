using System.Net;
using AiEdge.Middleware.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace AiEdge.Middleware.Redis.Tests;

/// <summary>App instances (replicas) that share rate-limit tiers through one Redis, and concurrent load across them.</summary>
internal static class RateLimitedReplicas
{
    /// <summary>
    /// Starts a replica on <paramref name="configuration"/> with one GET endpoint per tier (<c>/{tier}</c>) and its
    /// meters collected by <paramref name="metrics"/>; reconnects quickly (every 500 ms at most) after a failover.
    /// </summary>
    public static Task<TestApp> StartAsync(string configuration, MetricsCollector metrics, params (string Name, string Rate, int Burst)[] tiers)
    {
        var settings = new Dictionary<string, string?>
        {
            ["AiEdge:Redis:Configuration"] = configuration,
            ["AiEdge:Redis:MaxReconnectDelay"] = "00:00:00.500",
        };
        foreach (var (name, rate, burst) in tiers)
        {
            settings[$"AiEdge:RateLimiting:Tiers:{name}:Rate"] = rate;
            settings[$"AiEdge:RateLimiting:Tiers:{name}:Burst"] = burst.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        return TestApp.StartAsync(
            builder =>
            {
                builder.Services.AddSingleton(metrics.MeterFactory);
                builder.Services.AddAiEdgeCore(static edge => edge.AddRateLimiting().AddRedis());
            },
            app =>
            {
                app.UseAiEdge();
                foreach (var (name, _, _) in tiers)
                {
                    app.MapGet("/" + name, static () => "ok").WithRateLimitTier(name);
                }
            },
            settings);
    }

    /// <summary>Sends <paramref name="count"/> concurrent GETs of <paramref name="path"/>, spread over the replicas in turn.</summary>
    public static async Task<HttpStatusCode[]> HammerAsync(TestApp[] replicas, string path, int count, TimeSpan timeout)
        => await Task.WhenAll(Enumerable.Range(0, count).Select(i => Task.Run(async () =>
        {
            using var response = await replicas[i % replicas.Length].Client.GetAsync(path);
            return response.StatusCode;
        }))).WaitAsync(timeout);
}
