using AiEdge.Middleware.Security.Internal;
using BenchmarkDotNet.Attributes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AiEdge.Middleware.Benchmarks;

/// <summary>
/// The per-request cost of security headers, CORS and body limits on one routed POST, through the public API
/// (AddAiEdgeCore, UseAiEdge, an endpoint writing a small body), response-start callbacks included. The baseline is
/// the same pipeline with none of them.
/// </summary>
[MemoryDiagnoser]
public class SecurityBenchmarks
{
    private static readonly byte[] Body = "{\"label\":\"positive\"}"u8.ToArray();
    private readonly List<WebApplication> _apps = [];
    private (WebApplication App, RequestDelegate Pipeline) _baseline;
    private (WebApplication App, RequestDelegate Pipeline) _headers;
    private (WebApplication App, RequestDelegate Pipeline) _all;

    [GlobalSetup]
    public void Setup()
    {
        _baseline = Build(static _ => { }, cors: false);
        _headers = Build(static edge => edge.AddSecurityHeaders(), cors: false);
        _all = Build(static edge => edge.AddSecurityHeaders().AddCors().AddBodyLimits(), cors: true);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var app in _apps)
        {
            ((IDisposable)app).Dispose();
        }
    }

    /// <summary>No security concern.</summary>
    [Benchmark(Baseline = true)]
    public Task Baseline() => RunAsync(_baseline, origin: null, preflight: false);

    /// <summary>The API preset applied at response start.</summary>
    [Benchmark]
    public Task SecurityHeaders() => RunAsync(_headers, origin: null, preflight: false);

    /// <summary>Headers, CORS and body limit on a same-origin request (no Origin header).</summary>
    [Benchmark]
    public Task HeadersCorsBodyLimit_NoOrigin() => RunAsync(_all, origin: null, preflight: false);

    /// <summary>Headers, CORS and body limit on a cross-origin request from an allowed origin.</summary>
    [Benchmark]
    public Task HeadersCorsBodyLimit_AllowedOrigin() => RunAsync(_all, "https://app.example.com", preflight: false);

    /// <summary>A preflight answered 204 at the CORS stage.</summary>
    [Benchmark]
    public Task Preflight() => RunAsync(_all, "https://app.example.com", preflight: true);

    private (WebApplication App, RequestDelegate Pipeline) Build(Action<IAiEdgeBuilder> configure, bool cors)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();

        // Settings of a package that is not added fail at startup: only the app with CORS gets CORS settings.
        if (cors)
        {
            builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["AiEdge:Cors:AllowedOrigins:0"] = "https://app.example.com",
                ["AiEdge:Cors:AllowedOrigins:1"] = "https://*.tenant.example.org",
            });
        }

        builder.Services.AddAiEdgeCore(configure);
        var app = builder.Build();
        app.UseAiEdge();
        app.MapPost("/v1/predict", static context => context.Response.Body.WriteAsync(Body).AsTask());
        _apps.Add(app);
        return (app, ((IApplicationBuilder)app).Build());
    }

    private static async Task RunAsync((WebApplication App, RequestDelegate Pipeline) target, string? origin, bool preflight)
    {
        var response = new StartingResponseFeature();
        var context = new DefaultHttpContext { RequestServices = target.App.Services };
        context.Features.Set<IHttpResponseFeature>(response);
        context.Features.Set<IHttpResponseBodyFeature>(new StreamResponseBodyFeature(Stream.Null));
        context.Request.Method = preflight ? HttpMethods.Options : HttpMethods.Post;
        context.Request.Path = "/v1/predict";
        context.Request.ContentLength = preflight ? null : 64;
        if (origin is not null)
        {
            context.Request.Headers.Origin = origin;
        }

        if (preflight)
        {
            context.Request.Headers.AccessControlRequestMethod = "POST";
        }

        await target.Pipeline(context);
        await response.StartAsync();
    }

    /// <summary>A response feature that runs its OnStarting callbacks when told, as a server does at the first write.</summary>
    private sealed class StartingResponseFeature : HttpResponseFeature
    {
        private Func<object, Task>? _callback;
        private object? _state;
        private List<(Func<object, Task>, object)>? _more;

        public override void OnStarting(Func<object, Task> callback, object state)
        {
            if (_callback is null)
            {
                (_callback, _state) = (callback, state);
            }
            else
            {
                (_more ??= []).Add((callback, state));
            }
        }

        public async Task StartAsync()
        {
            if (_more is not null)
            {
                for (var i = _more.Count - 1; i >= 0; i--)
                {
                    await _more[i].Item1(_more[i].Item2);
                }
            }

            if (_callback is not null)
            {
                await _callback(_state!);
            }
        }
    }
}

/// <summary>Origin decisions: an exact hit is one hash lookup, a pattern is a span suffix match.</summary>
[MemoryDiagnoser]
public class OriginMatcherBenchmarks
{
    private readonly OriginMatcher _matcher = new(["https://app.example.com", "http://localhost:5173", "https://admin.example.com", "https://*.tenant.example.org"]);

    /// <summary>An exact origin.</summary>
    [Benchmark(Baseline = true)]
    public bool Exact() => _matcher.IsAllowed("https://app.example.com");

    /// <summary>A subdomain matched by a pattern.</summary>
    [Benchmark]
    public bool Pattern() => _matcher.IsAllowed("https://eu.acme.tenant.example.org");

    /// <summary>A look-alike that must be refused.</summary>
    [Benchmark]
    public bool LookAlike() => _matcher.IsAllowed("https://app.example.com.evil.net");
}
