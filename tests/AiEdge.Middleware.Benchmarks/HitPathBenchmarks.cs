using AiEdge.Middleware.Caching.Internal;
using BenchmarkDotNet.Attributes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AiEdge.Middleware.Benchmarks;

/// <summary>
/// Where a prediction-cache hit's time goes, above the cheapest routed request. The hit is measured through
/// compositions that each add one part of the sample's edge (the cache alone; with rate limiting; the whole sample
/// pipeline), beside the floor (routing and an endpoint that writes the same answer, the body unread) and the hit's
/// own steps alone: reading the body into a pooled buffer, the key (canonical JSON and SHA-256), and writing the
/// stored response back.
/// </summary>
[MemoryDiagnoser]
public class HitPathBenchmarks
{
    private static readonly byte[] Answer = "{\"model\":\"toy\",\"label\":\"positive\",\"score\":0.8808,\"invocation\":\"5d1c0e4b2f6a4f0c9d8e7b6a5c4d3e2f\"}"u8.ToArray();
    private static readonly byte[] Repeated = "{\"model\":\"toy\",\"input\":\"the same input every time is great\"}"u8.ToArray();

    private readonly MemoryStream _body = new(Repeated, writable: false);
    private readonly (WebApplication App, RequestDelegate Pipeline)[] _apps = new (WebApplication, RequestDelegate)[4];
    private ResolvedCachePolicy _policy = null!;
    private CachedResponse _entry = null!;

    [GlobalSetup]
    public void Setup()
    {
        for (var i = 0; i < _apps.Length; i++)
        {
            _apps[i] = Build((Composition)i);
        }

        for (var i = 1; i < _apps.Length; i++)
        {
            var probe = NewPost(_apps[i].App);
            _apps[i].Pipeline(probe).GetAwaiter().GetResult();
            probe = NewPost(_apps[i].App);
            _apps[i].Pipeline(probe).GetAwaiter().GetResult();
            if (probe.Response.Headers["X-Cache"] != "HIT")
            {
                throw new InvalidOperationException($"{(Composition)i} did not answer a cache hit (status {probe.Response.StatusCode}).");
            }
        }

        _policy = _apps[1].App.Services.GetRequiredService<CachePolicyRegistry>().Default;
        var recorded = new DefaultHttpContext();
        recorded.Response.StatusCode = 200;
        recorded.Response.ContentType = "application/json; charset=utf-8";
        _entry = ResponseRecorder.Record(recorded.Response, [], Answer, null, DateTimeOffset.UnixEpoch, TimeSpan.FromHours(1), TimeSpan.Zero);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var (app, _) in _apps)
        {
            ((IDisposable)app).Dispose();
        }
    }

    /// <summary>Routing and an endpoint writing the answer, the body unread: the cheapest routed POST.</summary>
    [Benchmark(Baseline = true)]
    public Task Floor_RoutingAndAnswer() => Run(Composition.Floor);

    /// <summary>A hit through the prediction cache alone (<c>AddAiEdgeCore</c> and <c>AddPredictionCache</c>).</summary>
    [Benchmark]
    public Task Hit_CacheAlone() => Run(Composition.CacheAlone);

    /// <summary>A hit through the cache behind in-memory rate limiting.</summary>
    [Benchmark]
    public Task Hit_CacheAndRateLimiting() => Run(Composition.CacheAndRateLimiting);

    /// <summary>A hit through the sample's whole pipeline (forwarded headers, security headers, CORS, health, authentication, rate limiting, body limits, cache, Idempotency-Key, streaming control).</summary>
    [Benchmark]
    public Task Hit_SamplePipeline() => Run(Composition.Sample);

    /// <summary>The hit's first step alone: the body read into a pooled buffer.</summary>
    [Benchmark]
    public async Task<int> Step_ReadBody()
    {
        _body.Position = 0;
        var (buffer, length, _) = await BufferedRequestBody.ReadAsync(_body, Repeated.Length, 1 << 20, CancellationToken.None);
        System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        return length;
    }

    /// <summary>The key alone, as the middleware computes it (request fields, canonical JSON, SHA-256).</summary>
    [Benchmark]
    public bool Step_Key()
    {
        var context = NewPost(_apps[1].App);
        return CacheLookup.ComputeKey(context, _policy, null, Repeated, ignoreCase: true, out _) == JsonCanonicalResult.Written;
    }

    /// <summary>Writing a stored answer back: status, its headers, <c>X-Cache</c>, <c>Age</c> and the body.</summary>
    [Benchmark]
    public Task Step_Replay()
        => ResponseRecorder.WriteAsync(NewPost(_apps[1].App), _entry, ResponseRecorder.Hit, sendAge: true, DateTimeOffset.UnixEpoch.AddSeconds(3));

    private Task Run(Composition composition)
    {
        var (app, pipeline) = _apps[(int)composition];
        return pipeline(NewPost(app));
    }

    private static (WebApplication App, RequestDelegate Pipeline) Build(Composition composition)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        // Settings of a package that is not added fail at startup: each composition gets its packages' settings.
        var settings = new Dictionary<string, string?>();
        if (composition != Composition.Floor)
        {
            settings["AiEdge:Caching:Anonymous"] = "Shared";
            settings["AiEdge:Caching:ExcludedJsonFields:0"] = "user";
            settings["AiEdge:Caching:Duration"] = "01:00:00";
        }

        if (composition is not (Composition.Floor or Composition.CacheAlone))
        {
            settings["AiEdge:RateLimiting:Tiers:predict:Rate"] = "1000000r/s";
            settings["AiEdge:RateLimiting:Tiers:predict:Burst"] = "1000000";
        }

        if (composition is not (Composition.Floor or Composition.CacheAlone or Composition.CacheAndRateLimiting))
        {
            settings["AiEdge:Cors:AllowedOrigins:0"] = "http://localhost:5173";
        }

        builder.Configuration.AddInMemoryCollection(settings);
        switch (composition)
        {
            case Composition.Floor:
                builder.Services.AddRouting();
                break;
            case Composition.CacheAlone:
                builder.Services.AddAiEdgeCore(static edge => edge.AddPredictionCache());
                break;
            case Composition.CacheAndRateLimiting:
                builder.Services.AddAiEdgeCore(static edge => edge.AddPredictionCache().AddRateLimiting());
                break;
            default:
                builder.Services.AddAiEdge(static edge => edge.AddCors().AddBodyLimits().AddStreaming().AddPredictionCache().AddIdempotency().AddRateLimiting());
                break;
        }

        var app = builder.Build();
        if (composition == Composition.Floor)
        {
            app.UseRouting();
        }
        else
        {
            app.UseAiEdge();
        }

        var endpoint = app.MapPost("/v1/predict", static context =>
        {
            context.Response.ContentType = "application/json; charset=utf-8";
            return context.Response.Body.WriteAsync(Answer).AsTask();
        });
        switch (composition)
        {
            case Composition.CacheAlone:
                endpoint.WithPredictionCache();
                break;
            case Composition.CacheAndRateLimiting:
                endpoint.WithPredictionCache().WithRateLimitTier("predict");
                break;
            case Composition.Sample:
                endpoint.WithBodyLimit("1m").WithPredictionCache().WithIdempotency().WithRateLimitTier("predict");
                break;
        }

        app.UseEndpoints(static _ => { });
        return (app, ((IApplicationBuilder)app).Build());
    }

    private DefaultHttpContext NewPost(WebApplication app)
    {
        _body.Position = 0;
        var context = new DefaultHttpContext { RequestServices = app.Services };
        context.Features.Set<IHttpResponseBodyFeature>(new StreamResponseBodyFeature(Stream.Null));
        context.Request.Method = HttpMethods.Post;
        context.Request.Scheme = "http";
        context.Request.Host = new HostString("localhost");
        context.Request.Path = "/v1/predict";
        context.Request.ContentType = "application/json";
        context.Request.ContentLength = Repeated.Length;
        context.Request.Body = _body;
        context.Connection.RemoteIpAddress = System.Net.IPAddress.Loopback;
        return context;
    }

    private enum Composition
    {
        Floor,
        CacheAlone,
        CacheAndRateLimiting,
        Sample,
    }
}
