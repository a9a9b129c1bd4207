using AiEdge.Middleware.Caching;
using AiEdge.Middleware.Caching.Internal;
using AiEdge.Middleware.Internal;
using BenchmarkDotNet.Attributes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AiEdge.Middleware.Benchmarks;

/// <summary>
/// The prediction cache's HIT path on one routed POST, through the public API (AddPredictionCache, UseAiEdge,
/// WithPredictionCache): read and canonicalize the JSON body, hash the key, find the entry, replay status, headers
/// and body. Beside it: the same pipeline answering from a trivial endpoint without the cache (the baseline),
/// ASP.NET Core's own OutputCaching answering a GET hit (it cannot key POST bodies), and the key computation alone.
/// </summary>
[MemoryDiagnoser]
public class CachingBenchmarks
{
    private static readonly byte[] Answer = "{\"model\":\"toy\",\"label\":\"positive\",\"score\":0.8808,\"invocation\":\"5d1c0e4b2f6a4f0c9d8e7b6a5c4d3e2f\"}"u8.ToArray();
    private static readonly byte[] Request = "{\"model\":\"toy\",\"input\":\"I love this great API\",\"user\":\"u-1\"}"u8.ToArray();
    private static readonly byte[] Reordered = "{ \"input\": \"I love this great API\", \"user\": \"u-2\", \"model\": \"toy\" }"u8.ToArray();
    private static readonly string[] Excluded = ["user"];

    private WebApplication _plainApp = null!;
    private WebApplication _cacheApp = null!;
    private WebApplication _outputCacheApp = null!;
    private RequestDelegate _plain = null!;
    private RequestDelegate _cache = null!;
    private RequestDelegate _outputCache = null!;

    [GlobalSetup]
    public void Setup()
    {
        (_plainApp, _plain) = Build(cached: false);
        (_cacheApp, _cache) = Build(cached: true);
        (_outputCacheApp, _outputCache) = BuildOutputCache();

        // Warm both caches so every measured call is a hit.
        _cache(NewPost(_cacheApp, Request)).GetAwaiter().GetResult();
        _outputCache(NewGet(_outputCacheApp)).GetAwaiter().GetResult();
        var probe = NewPost(_cacheApp, Request);
        _cache(probe).GetAwaiter().GetResult();
        if (probe.Response.Headers["X-Cache"] != "HIT")
        {
            throw new InvalidOperationException($"The prediction cache did not answer a hit: {probe.Response.StatusCode} X-Cache={probe.Response.Headers["X-Cache"]}.");
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        ((IDisposable)_plainApp).Dispose();
        ((IDisposable)_cacheApp).Dispose();
        ((IDisposable)_outputCacheApp).Dispose();
    }

    /// <summary>POST to an endpoint that writes the answer itself, no cache (what a hit must compete with).</summary>
    [Benchmark(Baseline = true)]
    public Task Post_NoCache_TrivialEndpoint() => _plain(NewPost(_plainApp, Request));

    /// <summary>POST answered from the prediction cache.</summary>
    [Benchmark]
    public Task Post_PredictionCache_Hit() => _cache(NewPost(_cacheApp, Request));

    /// <summary>POST with other key order, whitespace and an excluded field, still a hit.</summary>
    [Benchmark]
    public Task Post_PredictionCache_Hit_Reordered() => _cache(NewPost(_cacheApp, Reordered));

    /// <summary>ASP.NET Core OutputCaching answering a GET hit (the built-in counterpart; it never looks at bodies).</summary>
    [Benchmark]
    public Task Get_OutputCaching_Hit() => _outputCache(NewGet(_outputCacheApp));

    /// <summary>The key alone: canonical JSON of the body and SHA-256.</summary>
    [Benchmark]
    public byte[] Key_CanonicalJsonAndSha256()
    {
        using var writer = new PooledByteWriter(256);
        JsonCanonicalizer.TryWrite(Request, writer, Excluded, ignoreCase: true);
        var hash = new byte[32];
        Sha256PerThread.Hash(writer.WrittenSpan, hash);
        return hash;
    }

    private static (WebApplication App, RequestDelegate Pipeline) Build(bool cached)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddAiEdgeCore(edge =>
        {
            if (cached)
            {
                edge.AddPredictionCache(options =>
                {
                    options.Anonymous = AnonymousCaching.Shared;
                    options.ExcludedJsonFields.Add("user");
                    options.Duration = TimeSpan.FromHours(1);
                });
            }
        });
        var app = builder.Build();
        app.UseAiEdge();
        var endpoint = app.MapPost("/v1/predict", static context =>
        {
            context.Response.ContentType = "application/json";
            return context.Response.Body.WriteAsync(Answer).AsTask();
        });
        if (cached)
        {
            endpoint.WithPredictionCache();
        }

        return (app, Pipeline(app));
    }

    private static (WebApplication App, RequestDelegate Pipeline) BuildOutputCache()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddAiEdgeCore();
        builder.Services.AddOutputCache();
        var app = builder.Build();
        app.UseAiEdge();
        app.UseOutputCache();
        app.MapGet("/v1/predict", static context =>
        {
            context.Response.ContentType = "application/json";
            return context.Response.Body.WriteAsync(Answer).AsTask();
        }).CacheOutput(static policy => policy.Expire(TimeSpan.FromHours(1)));
        return (app, Pipeline(app));
    }

    // The endpoint middleware is what WebApplication adds at the end of its own pipeline.
    private static RequestDelegate Pipeline(WebApplication app)
    {
        app.UseEndpoints(static _ => { });
        return ((IApplicationBuilder)app).Build();
    }

    private static DefaultHttpContext NewContext(WebApplication app, string method)
    {
        var context = new DefaultHttpContext { RequestServices = app.Services };
        context.Features.Set<IHttpResponseBodyFeature>(new StreamResponseBodyFeature(Stream.Null));
        context.Request.Method = method;
        context.Request.Scheme = "http";
        context.Request.Host = new HostString("localhost");
        context.Request.Path = "/v1/predict";
        context.Connection.RemoteIpAddress = System.Net.IPAddress.Loopback;
        return context;
    }

    private static DefaultHttpContext NewPost(WebApplication app, byte[] body)
    {
        var context = NewContext(app, HttpMethods.Post);
        context.Request.ContentType = "application/json";
        context.Request.ContentLength = body.Length;
        context.Request.Body = new MemoryStream(body, writable: false);
        return context;
    }

    private static DefaultHttpContext NewGet(WebApplication app) => NewContext(app, HttpMethods.Get);
}
