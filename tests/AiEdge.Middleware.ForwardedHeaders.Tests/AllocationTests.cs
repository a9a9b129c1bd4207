using System.Net;
using AiEdge.Middleware.ForwardedHeaders.Internal;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging.Abstractions;

namespace AiEdge.Middleware.ForwardedHeaders.Tests;

/// <summary>The single-hop case allocates nothing once warm: measured with the thread's allocation counter, not timing.</summary>
public sealed class AllocationTests
{
    [Fact]
    public void Resolver_SingleHop_AllocatesNothing()
    {
        var resolver = ResolverFactory.Create();
        var headers = new HeaderDictionary { ["X-Forwarded-For"] = "203.0.113.7" };
        var state = new ResolvedClientState();
        var loopback = IPAddress.Loopback;

        void Once()
        {
            Assert.True(state.IsPeerTrusted(loopback, resolver, out var peerValue));
            resolver.Resolve(peerValue, headers, out var result);
            _ = state.GetClientAddress(result.Client);
        }

        for (var i = 0; i < 100; i++)
        {
            Once();
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 10_000; i++)
        {
            Once();
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        // Bytes per call, rounded down: a one-off allocation of the runtime itself (tiered JIT) cannot fail it,
        // while any allocation per call (24 bytes at the least) does.
        Assert.Equal(0, allocated / 10_000);
    }

    [Fact]
    public async Task Middleware_SingleHopOnKeepAliveConnection_AllocatesNothing()
    {
        var resolver = ResolverFactory.Create();
        var middleware = new ForwardedHeadersNormalizationMiddleware(static _ => Task.CompletedTask, resolver, NullLogger<ForwardedHeadersNormalizationMiddleware>.Instance);
        var context = KeepAliveContext();
        var peer = IPAddress.Loopback;

        void Once()
        {
            // What the server resets between two requests of one connection.
            context.Connection.RemoteIpAddress = peer;
            context.Request.Scheme = "http";
            var task = middleware.InvokeAsync(context);
            if (!task.IsCompletedSuccessfully)
            {
                throw new InvalidOperationException("The middleware went asynchronous.");
            }
        }

        for (var i = 0; i < 100; i++)
        {
            Once();
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 10_000; i++)
        {
            Once();
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        // Bytes per call, rounded down: a one-off allocation of the runtime itself (tiered JIT) cannot fail it,
        // while any allocation per call (24 bytes at the least) does.
        Assert.Equal(0, allocated / 10_000);
        Assert.Equal(IPAddress.Parse("203.0.113.7"), context.Connection.RemoteIpAddress);
        Assert.Equal("https", context.Request.Scheme);
        await Task.CompletedTask;
    }

    internal static DefaultHttpContext KeepAliveContext()
    {
        var features = new FeatureCollection();
        features.Set<IHttpRequestFeature>(new HttpRequestFeature { Protocol = "HTTP/1.1", Scheme = "http" });
        features.Set<IHttpResponseFeature>(new HttpResponseFeature());
        features.Set<IHttpConnectionFeature>(new HttpConnectionFeature());
        features.Set<IConnectionItemsFeature>(new ItemsFeature());
        var context = new DefaultHttpContext(features);
        context.Request.Headers["X-Forwarded-For"] = "203.0.113.7";
        context.Request.Headers["X-Forwarded-Proto"] = "https";
        return context;
    }

    private sealed class ItemsFeature : IConnectionItemsFeature
    {
        public IDictionary<object, object?> Items { get; set; } = new Dictionary<object, object?>();
    }
}
