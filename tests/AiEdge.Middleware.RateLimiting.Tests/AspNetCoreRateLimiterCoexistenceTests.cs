using System.Net;
using System.Threading.RateLimiting;
using AiEdge.Middleware.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace AiEdge.Middleware.RateLimiting.Tests;

/// <summary>
/// AiEdge's tiers beside ASP.NET Core's own rate limiter (<c>UseRateLimiter()</c> after <c>UseAiEdge()</c>): AiEdge's
/// RateLimit fields describe only AiEdge's decisions, and ASP.NET Core's <c>[DisableRateLimiting]</c> exempts an
/// endpoint from AiEdge's tiers as well.
/// </summary>
public sealed class AspNetCoreRateLimiterCoexistenceTests
{
    private static Task<TestApp> StartAsync(FakeTimeProvider time, Func<OnRejectedContext, CancellationToken, ValueTask>? onRejected)
        => RateLimitHost.StartAsync(
            time,
            o => o.AddTier("t", t =>
            {
                t.Rate = "10r/s";
                t.Burst = 10;
            }),
            app =>
            {
                app.UseRateLimiter();
                app.MapGet("/limited", () => "ok").WithRateLimitTier("t").RequireRateLimiting("app");
            },
            services: services => services.AddRateLimiter(options =>
            {
                options.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
                options.OnRejected = onRejected;
                options.AddFixedWindowLimiter("app", window =>
                {
                    window.PermitLimit = 1;
                    window.Window = TimeSpan.FromHours(1);
                    window.QueueLimit = 0;
                });
            }));

    // Found: the built-in limiter's 429 carried AiEdge's RateLimit field saying requests remain.
    [Fact]
    public async Task RefusalOfTheAppsLimiter_CarriesNoAiEdgeRateLimitFields()
    {
        await using var app = await StartAsync(new FakeTimeProvider(TestClock.Start), onRejected: null);

        using var admitted = await app.SendAsync("/limited");
        using var refused = await app.SendAsync("/limited");

        Assert.Equal(HttpStatusCode.OK, admitted.StatusCode);
        Assert.Equal("\"t\";r=10;t=1", admitted.Header("RateLimit"));
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.False(refused.Headers.Contains("RateLimit"));
        Assert.False(refused.Headers.Contains("RateLimit-Policy"));
        Assert.False(refused.Headers.Contains("Retry-After"));
    }

    [Fact]
    public async Task RefusalOfTheAppsLimiter_WithItsOwnBody_IsLeftAsTheAppWroteIt()
    {
        await using var app = await StartAsync(
            new FakeTimeProvider(TestClock.Start),
            static async (context, token) =>
            {
                context.HttpContext.Response.Headers.RetryAfter = "3600";
                await context.HttpContext.Response.WriteAsync("slow down", token);
            });

        await app.SendManyAsync("/limited", 1);
        using var refused = await app.SendAsync("/limited");

        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Equal("slow down", await refused.Content.ReadAsStringAsync());
        Assert.Equal("3600", refused.Header("Retry-After"));
        Assert.False(refused.Headers.Contains("RateLimit"));
        Assert.False(refused.Headers.Contains("RateLimit-Policy"));
    }

    [Fact]
    public async Task DisableRateLimiting_OfAspNetCore_ExemptsTheEndpointFromAiEdgeTiers()
    {
        await using var app = await RateLimitHost.StartAsync(
            new FakeTimeProvider(TestClock.Start),
            o => o.AddTier("t", t => t.Rate = "1r/m"),
            a =>
            {
                var group = a.MapGroup("/api").WithRateLimitTier("t");
                group.MapGet("/limited", () => "ok");
                group.MapGet("/open", () => "ok").DisableRateLimiting();
                group.MapGet("/attributed", [DisableRateLimiting] () => "ok");
            });

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.TooManyRequests], await app.SendManyAsync("/api/limited", 2));
        Assert.All(await app.SendManyAsync("/api/open", 3), s => Assert.Equal(HttpStatusCode.OK, s));
        Assert.All(await app.SendManyAsync("/api/attributed", 3), s => Assert.Equal(HttpStatusCode.OK, s));
        using var open = await app.SendAsync("/api/open");
        Assert.False(open.Headers.Contains("RateLimit"));
    }
}
