using System.Threading.RateLimiting;
using AiEdge.Middleware.Concurrency;
using AiEdge.Middleware.Concurrency.Internal;
using BenchmarkDotNet.Attributes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace AiEdge.Middleware.Benchmarks;

/// <summary>
/// One admitted request of an endpoint under a concurrency tier (uncontended: a slot is free, nobody waits) through
/// the AiEdge concurrency middleware (slot taken in the in-memory store and given back, lease registered for renewal,
/// service time measured, metrics and decision recorded) against ASP.NET Core's RateLimiter middleware with one
/// <see cref="ConcurrencyLimiter"/> (the baseline). Both run as bare pipelines on one reused HttpContext.
/// </summary>
[MemoryDiagnoser]
public class ConcurrencyBenchmarks
{
    private ServiceProvider _aiEdgeServices = null!;
    private ServiceProvider _aspNetServices = null!;
    private RequestDelegate _aiEdge = null!;
    private RequestDelegate _aspNet = null!;
    private DefaultHttpContext _aiEdgeContext = null!;
    private DefaultHttpContext _aspNetContext = null!;

    [GlobalSetup]
    public void Setup()
    {
        var aiEdge = new ServiceCollection();
        aiEdge.AddLogging();
        aiEdge.AddSingleton<IConfiguration>(new ConfigurationBuilder().Build());
        aiEdge.AddAiEdgeCore(edge => edge.AddConcurrency(options => options.AddTier("bench", tier =>
        {
            tier.Limit = 64;
            tier.QueueLimit = 64;
        })));
        _aiEdgeServices = aiEdge.BuildServiceProvider();
        var aiEdgeApp = new ApplicationBuilder(_aiEdgeServices);
        aiEdgeApp.UseMiddleware<ConcurrencyMiddleware>();
        aiEdgeApp.Run(static _ => Task.CompletedTask);
        _aiEdge = aiEdgeApp.Build();
        _aiEdgeContext = CreateContext(_aiEdgeServices, new ConcurrencyTierAttribute("bench"));

        var aspNet = new ServiceCollection();
        aspNet.AddLogging();
        aspNet.AddRateLimiter(options => options.AddPolicy("bench", static _ => RateLimitPartition.GetConcurrencyLimiter(
            "bench",
            static _ => new ConcurrencyLimiterOptions { PermitLimit = 64, QueueLimit = 64, QueueProcessingOrder = QueueProcessingOrder.OldestFirst })));
        _aspNetServices = aspNet.BuildServiceProvider();
        var aspNetApp = new ApplicationBuilder(_aspNetServices);
        aspNetApp.UseRateLimiter();
        aspNetApp.Run(static _ => Task.CompletedTask);
        _aspNet = aspNetApp.Build();
        _aspNetContext = CreateContext(_aspNetServices, new EnableRateLimitingAttribute("bench"));
    }

    private static DefaultHttpContext CreateContext(IServiceProvider services, object metadata)
    {
        var context = new DefaultHttpContext { RequestServices = services };
        context.SetEndpoint(new Endpoint(static _ => Task.CompletedTask, new EndpointMetadataCollection(metadata), "bench"));
        return context;
    }

    [Benchmark(Baseline = true, Description = "ASP.NET Core RateLimiter, one ConcurrencyLimiter")]
    public Task AspNetCoreConcurrencyLimiter() => _aspNet(_aspNetContext);

    [Benchmark(Description = "AiEdge concurrency tier, admitted")]
    public Task AiEdgeConcurrencyTier() => _aiEdge(_aiEdgeContext);

    [GlobalCleanup]
    public void Cleanup()
    {
        _aiEdgeServices.Dispose();
        _aspNetServices.Dispose();
    }
}
