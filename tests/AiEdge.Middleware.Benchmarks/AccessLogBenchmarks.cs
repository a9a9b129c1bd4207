using BenchmarkDotNet.Attributes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AiEdge.Middleware.Benchmarks;

/// <summary>
/// The cost of the structured access log on one routed request, through the public API (AddAiEdgeCore, UseAiEdge,
/// an endpoint writing a small body). The baseline is the same pipeline without the access log; the log goes to
/// a provider that drops events (the log's own cost) or formats the message (what a text sink adds).
/// </summary>
[MemoryDiagnoser]
public class AccessLogBenchmarks
{
    private static readonly byte[] Body = "{\"label\":\"positive\"}"u8.ToArray();
    private RequestDelegate _baseline = null!;
    private RequestDelegate _dropping = null!;
    private RequestDelegate _formatting = null!;
    private WebApplication[] _apps = [];

    [GlobalSetup]
    public void Setup()
    {
        var baseline = Build(withAccessLog: false, new DroppingProvider(format: false));
        var dropping = Build(withAccessLog: true, new DroppingProvider(format: false));
        var formatting = Build(withAccessLog: true, new DroppingProvider(format: true));
        _apps = [baseline.App, dropping.App, formatting.App];
        _baseline = baseline.Pipeline;
        _dropping = dropping.Pipeline;
        _formatting = formatting.Pipeline;

        // Warm every pipeline past tiered JIT before any is measured, so the first benchmark is not penalized.
        for (var i = 0; i < 50_000; i++)
        {
            _baseline(NewContext(_apps[0])).GetAwaiter().GetResult();
            _dropping(NewContext(_apps[1])).GetAwaiter().GetResult();
            _formatting(NewContext(_apps[2])).GetAwaiter().GetResult();
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var app in _apps)
        {
            ((IDisposable)app).Dispose();
        }
    }

    private static (WebApplication App, RequestDelegate Pipeline) Build(bool withAccessLog, ILoggerProvider logs)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders().AddProvider(logs).SetMinimumLevel(LogLevel.Information);
        builder.Services.AddAiEdgeCore(edge =>
        {
            if (withAccessLog)
            {
                edge.AddAccessLog();
            }
        });
        var app = builder.Build();
        app.UseAiEdge();
        app.MapPost("/v1/predict/{model}", static context => context.Response.Body.WriteAsync(Body).AsTask());

        // A pipeline built by hand needs the endpoint middleware (a started host adds it itself).
        app.UseEndpoints(static _ => { });
        return (app, ((IApplicationBuilder)app).Build());
    }

    private static HttpContext NewContext(WebApplication app)
    {
        var context = new DefaultHttpContext { RequestServices = app.Services };
        context.Features.Set<IHttpResponseBodyFeature>(new StreamResponseBodyFeature(Stream.Null));
        context.Request.Method = HttpMethods.Post;
        context.Request.Path = "/v1/predict/toy";
        context.Connection.RemoteIpAddress = System.Net.IPAddress.Loopback;
        return context;
    }

    /// <summary>The pipeline without the access log.</summary>
    [Benchmark(Baseline = true)]
    public Task NoAccessLog() => _baseline(NewContext(_apps[0]));

    /// <summary>The access log to a provider that drops events.</summary>
    [Benchmark]
    public Task AccessLog_Dropped() => _dropping(NewContext(_apps[1]));

    /// <summary>The access log to a provider that formats every message.</summary>
    [Benchmark]
    public Task AccessLog_Formatted() => _formatting(NewContext(_apps[2]));

    private sealed class DroppingProvider(bool format) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new Logger(format);

        public void Dispose()
        {
        }

        private sealed class Logger(bool format) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                if (format)
                {
                    _ = formatter(state, exception);
                }
            }
        }
    }
}
