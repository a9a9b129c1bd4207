using System.Net;
using AiEdge.Middleware.ForwardedHeaders;
using AiEdge.Middleware.ForwardedHeaders.Internal;
using BenchmarkDotNet.Attributes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using AspNetForwardedHeaders = Microsoft.AspNetCore.HttpOverrides.ForwardedHeaders;

namespace AiEdge.Middleware.Benchmarks;

/// <summary>
/// One request through forwarded-header normalization, next to ASP.NET Core's ForwardedHeadersMiddleware
/// (the baseline), on a warm HTTP/1.1 keep-alive connection as the server presents it.
/// </summary>
[MemoryDiagnoser]
public class ForwardedHeadersBenchmarks
{
    private static readonly RequestDelegate Next = static _ => Task.CompletedTask;
    private readonly IPAddress _peer = IPAddress.Loopback;
    private ForwardedHeadersMiddleware _aspNetCore = null!;
    private ForwardedHeadersNormalizationMiddleware _aiEdge = null!;
    private ForwardedHeadersNormalizationMiddleware _aiEdgeRecursive = null!;
    private DefaultHttpContext _context = null!;

    [GlobalSetup]
    public void Setup()
    {
        var aspNetOptions = new ForwardedHeadersOptions { ForwardedHeaders = AspNetForwardedHeaders.XForwardedFor | AspNetForwardedHeaders.XForwardedProto };
        _aspNetCore = new ForwardedHeadersMiddleware(Next, NullLoggerFactory.Instance, Options.Create(aspNetOptions));
        _aiEdge = Create(new EdgeForwardedHeadersOptions());
        _aiEdgeRecursive = Create(new EdgeForwardedHeadersOptions { TrustedProxies = ["127.0.0.1/32", "10.0.0.0/8"] });

        var features = new FeatureCollection();
        features.Set<IHttpRequestFeature>(new HttpRequestFeature { Protocol = "HTTP/1.1", Scheme = "http" });
        features.Set<IHttpResponseFeature>(new HttpResponseFeature());
        features.Set<IHttpConnectionFeature>(new HttpConnectionFeature());
        features.Set<IConnectionItemsFeature>(new ItemsFeature());
        _context = new DefaultHttpContext(features);
    }

    private static ForwardedHeadersNormalizationMiddleware Create(EdgeForwardedHeadersOptions options)
        => new(Next, new ForwardedHeadersResolver(Options.Create(options)), NullLogger<ForwardedHeadersNormalizationMiddleware>.Instance);

    private HttpContext Reset(string forwardedFor, string? forwardedHeader = null)
    {
        // What the server does between two requests of one connection, and the proxy's headers.
        _context.Connection.RemoteIpAddress = _peer;
        _context.Request.Scheme = "http";
        var headers = _context.Request.Headers;
        headers["X-Forwarded-For"] = forwardedFor;
        headers["X-Forwarded-Proto"] = "https";
        headers.Remove("X-Original-For");
        headers.Remove("X-Original-Proto");
        if (forwardedHeader is not null)
        {
            headers["Forwarded"] = forwardedHeader;
        }
        else
        {
            headers.Remove("Forwarded");
        }

        return _context;
    }

    /// <summary>ASP.NET Core's middleware, one X-Forwarded-For hop from a loopback proxy.</summary>
    [Benchmark(Baseline = true)]
    public Task AspNetCore_SingleHop() => _aspNetCore.Invoke(Reset("203.0.113.7"));

    /// <summary>AiEdge, one X-Forwarded-For hop from a loopback proxy.</summary>
    [Benchmark]
    public Task AiEdge_SingleHop() => _aiEdge.InvokeAsync(Reset("203.0.113.7"));

    /// <summary>AiEdge, three hops of which two are trusted proxies (real_ip_recursive).</summary>
    [Benchmark]
    public Task AiEdge_ThreeHopsRecursive() => _aiEdgeRecursive.InvokeAsync(Reset("198.51.100.1, 203.0.113.7, 10.0.0.2"));

    /// <summary>AiEdge, an RFC 7239 Forwarded header with an IPv6 hop and a port.</summary>
    [Benchmark]
    public Task AiEdge_Rfc7239() => _aiEdge.InvokeAsync(Reset("1.1.1.1", "for=\"[2001:db8:cafe::17]:4711\";proto=https"));

    private sealed class ItemsFeature : IConnectionItemsFeature
    {
        public IDictionary<object, object?> Items { get; set; } = new Dictionary<object, object?>();
    }
}
