using System.Net;
using AiEdge.Middleware.RateLimiting.Internal;
using AiEdge.Middleware.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace AiEdge.Middleware.RateLimiting.Tests;

public sealed class RateLimitingMiddlewareTests
{
    [Fact]
    public void Invoke_IpPartitionAdmittedAfterWarmUp_AllocatesNothing()
    {
        var time = new FakeTimeProvider(TestClock.Start);
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<Microsoft.Extensions.Configuration.IConfiguration>(new Microsoft.Extensions.Configuration.ConfigurationBuilder().Build());
        services.AddSingleton<TimeProvider>(time);
        services.AddAiEdgeCore(edge => edge.AddRateLimiting(o =>
        {
            o.ExpirationScanInterval = TimeSpan.Zero;
            o.AddTier("predict", t =>
            {
                t.Rate = "1000r/s";
                t.Burst = 20;
            });
        }));
        using var provider = services.BuildServiceProvider();
        var middleware = ActivatorUtilities.CreateInstance<RateLimitingMiddleware>(provider, (RequestDelegate)(static _ => Task.CompletedTask));
        var context = new DefaultHttpContext();
        context.Connection.RemoteIpAddress = IPAddress.Parse("203.0.113.9");
        context.SetEndpoint(new Endpoint(static _ => Task.CompletedTask, new EndpointMetadataCollection(new RateLimitTierAttribute("predict")), "predict"));

        void Once()
        {
            time.Advance(TimeSpan.FromMilliseconds(1));
            var task = middleware.InvokeAsync(context);
            Assert.True(task.IsCompletedSuccessfully);
        }

        for (var i = 0; i < 200; i++)
        {
            Once();
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 10_000; i++)
        {
            Once();
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(200, context.Response.StatusCode);
        Assert.Equal("\"predict\";r=20;t=1", context.Response.Headers["RateLimit"].ToString());
        // Bytes per call, rounded down: a one-off allocation of the runtime itself (tiered JIT) cannot fail it,
        // while any allocation per call (24 bytes at the least) does.
        Assert.Equal(0, allocated / 10_000);
    }

    [Fact]
    public async Task MvcAttribute_LimitsLikeTheRouteConvention()
    {
        var time = new FakeTimeProvider(TestClock.Start);
        await using var app = await RateLimitHost.StartAsync(
            time,
            o => o.AddTier("t", t =>
            {
                t.Rate = "1r/m";
                t.Burst = 1;
            }),
            a =>
            {
                a.MapControllers();
                a.MapGet("/minimal", () => "ok").WithRateLimitTier("t");
            },
            services: s => s.AddControllers().AddApplicationPart(typeof(LimitedController).Assembly));

        var mvc = await app.SendManyAsync("/mvc", 3, ip: "198.51.100.1");
        var minimal = await app.SendManyAsync("/minimal", 3, ip: "198.51.100.2");
        using var rejected = await app.SendAsync("/mvc", ip: "198.51.100.1");

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests], mvc);
        Assert.Equal(mvc, minimal);
        Assert.Equal("\"t\";q=2;w=120", rejected.Header("RateLimit-Policy"));
        await ProblemAssert.IsProblemAsync(rejected, HttpStatusCode.TooManyRequests);
    }
}

[ApiController]
public sealed class LimitedController : ControllerBase
{
    [HttpGet("/mvc")]
    [RateLimitTier("t")]
    public string Get() => "ok";
}
