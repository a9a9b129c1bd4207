using System.Net;
using System.Threading.RateLimiting;
using AiEdge.Middleware.RateLimiting;
using AiEdge.Middleware.RateLimiting.Internal;
using AiEdge.Middleware.Testing;
using BenchmarkDotNet.Attributes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace AiEdge.Middleware.Benchmarks;

/// <summary>
/// One admitted request of an IP-partitioned endpoint through the AiEdge rate-limiting middleware (NGINX
/// limit_req semantics, RateLimit headers written) against ASP.NET Core's RateLimiter middleware with a
/// per-IP TokenBucketLimiter (the baseline). Both run as bare pipelines on one reused HttpContext and every
/// request is admitted. NGINX's arithmetic has millisecond resolution, so the AiEdge side runs on a fake clock
/// (FakeTimeProvider) set 1 ms later per request at a 1000r/s tier (a steady state, as a client at the rate sees
/// it); the cost of moving the clock is counted against AiEdge. The clock is moved with SetUtcNow, not Advance,
/// because Advance pauses the calling thread for a millisecond to let timers run.
/// </summary>
[MemoryDiagnoser]
public class RateLimitingBenchmarks
{
    private ServiceProvider _aiEdgeServices = null!;
    private ServiceProvider _aspNetServices = null!;
    private RequestDelegate _aiEdge = null!;
    private RequestDelegate _aspNet = null!;
    private DefaultHttpContext _aiEdgeContext = null!;
    private DefaultHttpContext _aspNetContext = null!;
    private readonly FakeTimeProvider _time = new(TestClock.Start);

    [GlobalSetup]
    public void Setup()
    {
        var address = IPAddress.Parse("203.0.113.7");

        var aiEdge = new ServiceCollection();
        aiEdge.AddLogging();
        aiEdge.AddSingleton<IConfiguration>(new ConfigurationBuilder().Build());
        aiEdge.AddSingleton<TimeProvider>(_time);
        aiEdge.AddAiEdgeCore(edge => edge.AddRateLimiting(options =>
        {
            options.ExpirationScanInterval = TimeSpan.Zero;
            options.AddTier("bench", tier =>
            {
                tier.Rate = "1000r/s";
                tier.Burst = 20;
            });
        }));
        _aiEdgeServices = aiEdge.BuildServiceProvider();
        var aiEdgeApp = new ApplicationBuilder(_aiEdgeServices);
        aiEdgeApp.UseMiddleware<RateLimitingMiddleware>();
        aiEdgeApp.Run(static _ => Task.CompletedTask);
        _aiEdge = aiEdgeApp.Build();
        _aiEdgeContext = CreateContext(_aiEdgeServices, address, new RateLimitTierAttribute("bench"));

        var aspNet = new ServiceCollection();
        aspNet.AddLogging();
        aspNet.AddRateLimiter(options => options.AddPolicy("bench", static context => RateLimitPartition.GetTokenBucketLimiter(
            context.Connection.RemoteIpAddress!,
            static _ => new TokenBucketRateLimiterOptions
            {
                TokenLimit = 1_000_000_000,
                TokensPerPeriod = 1_000_000_000,
                ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                QueueLimit = 0,
                AutoReplenishment = true,
            })));
        _aspNetServices = aspNet.BuildServiceProvider();
        var aspNetApp = new ApplicationBuilder(_aspNetServices);
        aspNetApp.UseRateLimiter();
        aspNetApp.Run(static _ => Task.CompletedTask);
        _aspNet = aspNetApp.Build();
        _aspNetContext = CreateContext(_aspNetServices, address, new EnableRateLimitingAttribute("bench"));
    }

    private static DefaultHttpContext CreateContext(IServiceProvider services, IPAddress address, object metadata)
    {
        var context = new DefaultHttpContext { RequestServices = services };
        context.Features.Set<IHttpResponseFeature>(new ServerResponseFeature());
        context.Connection.RemoteIpAddress = address;
        context.SetEndpoint(new Endpoint(static _ => Task.CompletedTask, new EndpointMetadataCollection(metadata), "bench"));
        return context;
    }

    [Benchmark(Baseline = true, Description = "ASP.NET Core RateLimiter, TokenBucketLimiter per IP")]
    public Task AspNetCoreTokenBucket() => _aspNet(_aspNetContext);

    [Benchmark(Description = "AiEdge tier (limit_req), per IP, with RateLimit headers")]
    public Task AiEdgeTier()
    {
        _time.SetUtcNow(_time.GetUtcNow().AddMilliseconds(1));
        ((ServerResponseFeature)_aiEdgeContext.Features.Get<IHttpResponseFeature>()!).Reset();
        return _aiEdge(_aiEdgeContext);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _aiEdgeServices.Dispose();
        _aspNetServices.Dispose();
    }
}

/// <summary>
/// A response feature that keeps OnStarting callbacks as Kestrel does (one stack per connection, cleared between its
/// requests), so a middleware's callback registration is counted; DefaultHttpContext's own feature drops them.
/// </summary>
internal sealed class ServerResponseFeature : HttpResponseFeature
{
    private readonly Stack<KeyValuePair<Func<object, Task>, object>> _onStarting = new();

    public override void OnStarting(Func<object, Task> callback, object state) => _onStarting.Push(new(callback, state));

    public void Reset() => _onStarting.Clear();
}
