using AiEdge.Middleware.AccessLog.Internal;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AiEdge.Middleware.Core.Tests;

/// <summary>
/// The access log's own per-request cost, measured with the thread's allocation counter (deterministic, not timing):
/// once warm, a logged request whose pipeline completes synchronously allocates nothing in the middleware itself
/// (pooled record and body counter, no state machine, the event's fields passed as values to an enabled logger that
/// does not format). A request that goes asynchronous adds one state machine, as any async middleware does.
/// </summary>
public sealed class AccessLogAllocationTests
{
    private static readonly byte[] Body = new byte[64];

    // Fields of packages the request records nothing for: they cost nothing either.
    private static readonly AccessLogField[] Fields = [AccessLogField.Text("conc", "aiedge.concurrency.decision"), AccessLogField.Milliseconds("conc_wait", "aiedge.concurrency.queue_wait")];

    [Fact]
    public void LoggedRequest_AllocatesNothing_OnceWarm()
    {
        var logger = new CountingLoggerFactory();
        RequestDelegate endpoint = static context =>
        {
            context.Features.Get<AiEdgeDecisionsFeature>()!.Set(AiEdgeDiagnostics.Tags.CacheStatus, "hit");
            context.Response.StatusCode = 200;
            return context.Response.Body.WriteAsync(Body, 0, Body.Length);
        };
        var middleware = new AccessLogMiddleware(endpoint, Options.Create(new AccessLogOptions()), TimeProvider.System, logger, Fields);
        var context = new DefaultHttpContext();
        context.Features.Set<IHttpResponseBodyFeature>(new StreamResponseBodyFeature(Stream.Null));
        context.Request.Method = HttpMethods.Post;
        context.Request.Path = "/v1/predict";

        void Once()
        {
            var task = middleware.InvokeAsync(context);
            if (!task.IsCompletedSuccessfully)
            {
                throw new InvalidOperationException("The request went asynchronous.");
            }
        }

        for (var i = 0; i < 100; i++)
        {
            Once();
        }

        var logged = logger.Count;
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 10_000; i++)
        {
            Once();
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(logged + 10_000, logger.Count);
        // Bytes per call, rounded down: a one-off allocation of the runtime itself (tiered JIT) cannot fail it,
        // while any allocation per call (24 bytes at the least) does.
        Assert.Equal(0, allocated / 10_000);
        Assert.Null(context.Features.Get<AiEdgeDecisionsFeature>());
        Assert.IsType<StreamResponseBodyFeature>(context.Features.Get<IHttpResponseBodyFeature>());
    }

    private sealed class CountingLoggerFactory : ILoggerFactory, ILogger
    {
        public int Count { get; private set; }

        public void AddProvider(ILoggerProvider provider)
        {
        }

        public ILogger CreateLogger(string categoryName) => this;

        public void Dispose()
        {
        }

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (eventId.Id == 1900)
            {
                Count++;
            }
        }
    }
}
