using System.Diagnostics.Metrics;
using AiEdge.Middleware.Health;
using AiEdge.Middleware.Health.Internal;
using AiEdge.Middleware.Caching.Internal;
using AiEdge.Middleware.Internal;
using AiEdge.Middleware.Resilience;
using AiEdge.Middleware.Resilience.Internal;
using BenchmarkDotNet.Attributes;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace AiEdge.Middleware.Benchmarks;

/// <summary>
/// The per-request cost of the circuit-breaker stage: an endpoint it does not protect (must cost nothing beside
/// calling next, the baseline), and one it protects with a closed breaker (a Polly pipeline execution).
/// </summary>
[MemoryDiagnoser]
public class ResilienceBenchmarks
{
    private static readonly RequestDelegate Next = static _ => Task.CompletedTask;
    private CircuitBreakerMiddleware _middleware = null!;
    private DefaultHttpContext _unprotected = null!;
    private DefaultHttpContext _protected = null!;

    [GlobalSetup]
    public void Setup()
    {
        var options = new ResilienceOptions();
        options.Breakers["model"] = new BreakerOptions();
        var metrics = new ResilienceMetrics(new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<IMeterFactory>());
        var registry = new BreakerRegistry(Options.Create(options), TimeProvider.System, metrics, NullLoggerFactory.Instance);
        _middleware = new CircuitBreakerMiddleware(Next, registry, metrics, TimeProvider.System, NullLogger<CircuitBreakerMiddleware>.Instance);
        _unprotected = new DefaultHttpContext();
        _unprotected.SetEndpoint(new Endpoint(Next, new EndpointMetadataCollection(), "free"));
        _protected = new DefaultHttpContext();
        _protected.SetEndpoint(new Endpoint(Next, new EndpointMetadataCollection(new CircuitBreakerAttribute("model")), "model"));
    }

    /// <summary>Calling the next delegate and nothing else.</summary>
    [Benchmark(Baseline = true)]
    public Task NextOnly() => Next(_unprotected);

    /// <summary>The stage on an endpoint without a breaker.</summary>
    [Benchmark]
    public Task Unprotected() => _middleware.InvokeAsync(_unprotected);

    /// <summary>The stage on an endpoint behind a closed breaker (attempt timeout included).</summary>
    [Benchmark]
    public Task ClosedBreaker() => _middleware.InvokeAsync(_protected);
}

/// <summary>Choosing a replica among eight, by each selection strategy, with some calls in flight.</summary>
[MemoryDiagnoser]
public class BackendSelectionBenchmarks
{
    private BackendPool _leastOutstanding = null!;
    private BackendPool _twoChoices = null!;

    [GlobalSetup]
    public void Setup()
    {
        _leastOutstanding = Create(BackendSelection.LeastOutstanding);
        _twoChoices = Create(BackendSelection.PowerOfTwoChoices);
    }

    private static BackendPool Create(BackendSelection selection)
    {
        var options = new ResilienceOptions();
        var backend = new BackendOptions { Selection = selection };
        for (var i = 0; i < 8; i++)
        {
            backend.Replicas.Add(new BackendReplicaOptions { Url = "http://gpu-" + i + ":8000/v1", Weight = 1 + (i % 3) });
        }

        options.Backends["model"] = backend;
        var metrics = new ResilienceMetrics(new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<IMeterFactory>());
        var pool = new BreakerRegistry(Options.Create(options), TimeProvider.System, metrics, NullLoggerFactory.Instance).GetPool("model");
        for (var i = 0; i < 8; i++)
        {
            for (var n = 0; n < i % 4; n++)
            {
                pool.Replicas[i].Enter();
            }
        }

        return pool;
    }

    /// <summary>Weighted least-outstanding over eight replicas.</summary>
    [Benchmark(Baseline = true)]
    public int LeastOutstanding() => _leastOutstanding.Select(0, 0);

    /// <summary>Weighted power of two choices over eight replicas.</summary>
    [Benchmark]
    public int PowerOfTwoChoices() => _twoChoices.Select(0, 0);
}

/// <summary>
/// A liveness probe and a readiness probe (one registered check, result reused within the cache duration) beside
/// ASP.NET Core's HealthCheckMiddleware with its default options answering the same probes (the baseline). The
/// AiEdge probes are the same middleware with AiEdge's options, JSON writer and readiness cache.
/// </summary>
[MemoryDiagnoser]
public class HealthBenchmarks
{
    private static readonly RequestDelegate Next = static _ => Task.CompletedTask;
    private HealthCheckMiddleware _aspNetLiveness = null!;
    private HealthCheckMiddleware _aspNetReadiness = null!;
    private HealthCheckMiddleware _aiEdgeLiveness = null!;
    private HealthCheckMiddleware _aiEdgeReadiness = null!;
    private HealthMiddleware _aiEdgeStage = null!;
    private DefaultHttpContext _context = null!;

    [GlobalSetup]
    public void Setup()
    {
        var services = new ServiceCollection().AddLogging();
        services.AddHealthChecks().AddCheck("model", static () => HealthCheckResult.Healthy("loaded"));
        var provider = services.BuildServiceProvider();
        var health = provider.GetRequiredService<HealthCheckService>();
        _aspNetLiveness = new HealthCheckMiddleware(Next, Options.Create(new HealthCheckOptions { Predicate = static _ => false }), health);
        _aspNetReadiness = new HealthCheckMiddleware(Next, Options.Create(new HealthCheckOptions()), health);
        var options = Options.Create(new EdgeHealthOptions());
        var readiness = new ReadinessCache(health, options, TimeProvider.System);
        _aiEdgeLiveness = new HealthCheckMiddleware(Next, Options.Create(HealthEndpoints.CreateLivenessOptions()), health);
        _aiEdgeReadiness = new HealthCheckMiddleware(Next, Options.Create(HealthEndpoints.CreateReadinessOptions(readiness, options.Value, NullLogger.Instance)), readiness);
        _aiEdgeStage = new HealthMiddleware(Next, new HealthEndpointRegistry());
        _context = new DefaultHttpContext();
        _context.Request.Method = "GET";
        _context.Response.Body = Stream.Null;
    }

    private HttpContext Probe(string path)
    {
        _context.Request.Path = path;
        _context.Response.StatusCode = 200;
        return _context;
    }

    /// <summary>ASP.NET Core, liveness (no checks).</summary>
    [Benchmark(Baseline = true)]
    public Task AspNetCore_Liveness() => _aspNetLiveness.InvokeAsync(Probe("/healthz"));

    /// <summary>AiEdge, liveness.</summary>
    [Benchmark]
    public Task AiEdge_Liveness() => _aiEdgeLiveness.InvokeAsync(Probe("/healthz"));

    /// <summary>ASP.NET Core, readiness running its one check every time.</summary>
    [Benchmark]
    public Task AspNetCore_Readiness() => _aspNetReadiness.InvokeAsync(Probe("/readyz"));

    /// <summary>AiEdge, readiness within the 1 s reuse window, JSON body with each entry.</summary>
    [Benchmark]
    public Task AiEdge_Readiness() => _aiEdgeReadiness.InvokeAsync(Probe("/readyz"));

    /// <summary>AiEdge's Health stage on any other endpoint: pass-through.</summary>
    [Benchmark]
    public Task AiEdge_OtherPath() => _aiEdgeStage.InvokeAsync(Probe("/v1/predict"));
}
