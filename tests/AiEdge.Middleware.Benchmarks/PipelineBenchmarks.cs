using System.Buffers.Text;
using BenchmarkDotNet.Attributes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AiEdge.Middleware.Benchmarks;

/// <summary>
/// The whole <c>UseAiEdge()</c> pipeline as the sample composes it (forwarded headers, security headers, CORS,
/// health, authentication, rate limiting, body limits, prediction cache, Idempotency-Key, streaming control) on
/// one routed POST, on a cache miss (a new body every call) and on a hit, beside the same endpoint with routing only.
/// The difference in allocated bytes between <see cref="Pipeline_Miss"/> and <see cref="Bare_UniqueBody"/> is what
/// the edge costs per request.
/// </summary>
[MemoryDiagnoser]
public class PipelineBenchmarks
{
    private static readonly byte[] Answer = "{\"model\":\"toy\",\"label\":\"positive\",\"score\":0.8808,\"invocation\":\"5d1c0e4b2f6a4f0c9d8e7b6a5c4d3e2f\"}"u8.ToArray();
    private static readonly byte[] Repeated = "{\"model\":\"toy\",\"input\":\"the same input every time is great\"}"u8.ToArray();

    private readonly byte[] _unique = "{\"model\":\"toy\",\"input\":\"unique input 0000000000 is good\"}"u8.ToArray();
    private readonly MemoryStream _uniqueStream;
    private readonly MemoryStream _repeatedStream = new(Repeated, writable: false);
    private long _counter;

    private WebApplication _bareApp = null!;
    private WebApplication _edgeApp = null!;
    private RequestDelegate _bare = null!;
    private RequestDelegate _edge = null!;

    public PipelineBenchmarks()
    {
        _uniqueStream = new MemoryStream(_unique, writable: false);
    }

    [GlobalSetup]
    public void Setup()
    {
        (_bareApp, _bare) = Build(edge: false);
        (_edgeApp, _edge) = Build(edge: true);

        var probe = NewPost(_edgeApp, _repeatedStream, Repeated.Length);
        _edge(probe).GetAwaiter().GetResult();
        probe = NewPost(_edgeApp, _repeatedStream, Repeated.Length);
        _edge(probe).GetAwaiter().GetResult();
        if (probe.Response.StatusCode != 200 || probe.Response.Headers["X-Cache"] != "HIT")
        {
            throw new InvalidOperationException($"The pipeline did not answer a cache hit (status {probe.Response.StatusCode}, X-Cache '{probe.Response.Headers["X-Cache"]}').");
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        ((IDisposable)_bareApp).Dispose();
        ((IDisposable)_edgeApp).Dispose();
    }

    /// <summary>Routing and the endpoint only, a new body every call.</summary>
    [Benchmark(Baseline = true)]
    public Task Bare_UniqueBody() => _bare(NextUnique(_bareApp));

    /// <summary>The whole pipeline on a cache miss: the endpoint runs and its answer is stored.</summary>
    [Benchmark]
    public Task Pipeline_Miss() => _edge(NextUnique(_edgeApp));

    /// <summary>Routing and an endpoint that is never cached (the sample's <c>/v1/train</c>), a new body every call.</summary>
    [Benchmark]
    public Task Bare_Uncached() => _bare(NextUnique(_bareApp, "/v1/train"));

    /// <summary>
    /// The whole pipeline in front of an endpoint that is never cached, as the sample's <c>/v1/train</c> (body limit,
    /// Idempotency-Key, a rate-limit tier): the admission path without the cache.
    /// </summary>
    [Benchmark]
    public Task Pipeline_Uncached() => _edge(NextUnique(_edgeApp, "/v1/train"));

    /// <summary>The whole pipeline on a cache hit: the endpoint does not run.</summary>
    [Benchmark]
    public Task Pipeline_Hit() => _edge(NewPost(_edgeApp, _repeatedStream, Repeated.Length));

    private DefaultHttpContext NextUnique(WebApplication app, string path = "/v1/predict")
    {
        // Rewrites the ten digits of the body in place: a new cache key without allocating a new body.
        var digits = _unique.AsSpan("{\"model\":\"toy\",\"input\":\"unique input ".Length, 10);
        Utf8Formatter.TryFormat(++_counter, digits, out _, new System.Buffers.StandardFormat('D', 10));
        return NewPost(app, _uniqueStream, _unique.Length, path);
    }

    private static (WebApplication App, RequestDelegate Pipeline) Build(bool edge)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["AiEdge:RateLimiting:Tiers:predict:Rate"] = "1000000r/s",
            ["AiEdge:RateLimiting:Tiers:predict:Burst"] = "1000000",
            ["AiEdge:RateLimiting:Tiers:train:Rate"] = "1000000r/s",
            ["AiEdge:RateLimiting:Tiers:train:Burst"] = "1000000",
            ["AiEdge:Cors:AllowedOrigins:0"] = "http://localhost:5173",
            ["AiEdge:Caching:Anonymous"] = "Shared",
            ["AiEdge:Caching:ExcludedJsonFields:0"] = "user",
        });
        if (edge)
        {
            builder.Services.AddAiEdge(edge => edge
                .AddCors()
                .AddBodyLimits()
                .AddStreaming()
                .AddPredictionCache()
                .AddIdempotency()
                .AddRateLimiting());
        }
        else
        {
            builder.Services.AddRouting();
        }

        var app = builder.Build();
        if (edge)
        {
            app.UseAiEdge();
        }
        else
        {
            app.UseRouting();
        }

        var endpoint = app.MapPost("/v1/predict", ReadAndAnswerAsync);
        var train = app.MapPost("/v1/train", ReadAndAnswerAsync);
        if (edge)
        {
            endpoint.WithBodyLimit("1m").WithPredictionCache().WithIdempotency().WithRateLimitTier("predict");
            train.WithBodyLimit("100m").WithIdempotency().WithRateLimitTier("train");
        }

        // A pipeline built by hand needs the endpoint middleware (a started host adds it itself).
        app.UseEndpoints(static _ => { });
        return (app, ((IApplicationBuilder)app).Build());
    }

    // Reads the body as a model endpoint would, then answers.
    private static async Task ReadAndAnswerAsync(HttpContext context)
    {
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(512);
        while (await context.Request.Body.ReadAsync(buffer) > 0)
        {
        }

        System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        context.Response.ContentType = "application/json";
        await context.Response.Body.WriteAsync(Answer);
    }

    private static DefaultHttpContext NewPost(WebApplication app, MemoryStream body, int length, string path = "/v1/predict")
    {
        body.Position = 0;
        var context = new DefaultHttpContext { RequestServices = app.Services };
        context.Features.Set<IHttpResponseBodyFeature>(new StreamResponseBodyFeature(Stream.Null));
        context.Request.Method = HttpMethods.Post;
        context.Request.Scheme = "http";
        context.Request.Host = new HostString("localhost");
        context.Request.Path = path;
        context.Request.ContentType = "application/json";
        context.Request.ContentLength = length;
        context.Request.Body = body;
        context.Connection.RemoteIpAddress = System.Net.IPAddress.Loopback;
        return context;
    }
}
