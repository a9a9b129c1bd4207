using AiEdge.Middleware.ReverseProxy;
using AiEdge.Middleware.ReverseProxy.Internal;
using Microsoft.AspNetCore.Routing;
using Yarp.ReverseProxy.Model;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps a YARP reverse proxy with AiEdge's concerns applied per route.</summary>
public static class AiEdgeReverseProxyEndpointExtensions
{
    /// <summary>
    /// Maps YARP's routes (<c>app.MapReverseProxy(...)</c>) with AiEdge's proxy pipeline (<see cref="UseAiEdgeProxy"/>,
    /// then YARP's session affinity, load balancing and passive health checks) and AiEdge's route conventions
    /// (<see cref="WithAiEdgeRouteMetadata"/>). Only the configured routes are mapped: any other path reaches no
    /// backend. Call it after <c>app.UseAiEdge()</c>.
    /// </summary>
    /// <param name="endpoints">The application's endpoint builder.</param>
    /// <returns>The convention builder of the proxy's endpoints, for further conventions.</returns>
    public static ReverseProxyConventionBuilder MapAiEdgeReverseProxy(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        return endpoints.MapReverseProxy(static proxy =>
            {
                proxy.UseAiEdgeProxy();
                proxy.UseSessionAffinity();
                proxy.UseLoadBalancing();
                proxy.UsePassiveHealthChecks();
            })
            .WithAiEdgeRouteMetadata();
    }

    /// <summary>
    /// Adds AiEdge's step to a YARP proxy pipeline; put it first. It answers what YARP reports as a forwarding error:
    /// no available destination becomes a 503 problem with <c>Retry-After</c> (the time until the first destination's
    /// breaker or cool-down ends), a timeout a 504 problem, any other backend failure a 502 problem, and a backend that
    /// breaks a started event stream ends the caller's stream with a final <c>event: error</c> (between events) instead
    /// of a reset connection. A caller that went away gets nothing written. Before that, the cluster's destination
    /// cool-downs recorded by other replicas in the shared <c>IBackendCooldownStore</c> are applied. Needs
    /// <c>services.AddReverseProxy().AddAiEdge()</c>.
    /// </summary>
    /// <param name="proxy">The proxy pipeline.</param>
    /// <returns>The proxy pipeline.</returns>
    public static IReverseProxyApplicationBuilder UseAiEdgeProxy(this IReverseProxyApplicationBuilder proxy)
    {
        ArgumentNullException.ThrowIfNull(proxy);
        if (proxy.ApplicationServices.GetService(typeof(DestinationBreakers)) is null)
        {
            throw new InvalidOperationException("UseAiEdgeProxy() needs services.AddReverseProxy().AddAiEdge().");
        }

        proxy.UseMiddleware<SharedCooldownMiddleware>();
        proxy.UseMiddleware<ProxyErrorMiddleware>();
        return proxy;
    }

    /// <summary>
    /// Applies the <see cref="AiEdgeRouteMetadata"/> keys of each route's <c>Metadata</c> to its endpoint: rate-limit
    /// tier (with its token budget), authenticated caller, scopes, body limit, prediction cache, idempotency and
    /// streaming, exactly as the endpoint conventions of the same names do on minimal API endpoints.
    /// </summary>
    /// <param name="builder">The convention builder returned by <c>MapReverseProxy</c>.</param>
    /// <returns>The convention builder.</returns>
    public static ReverseProxyConventionBuilder WithAiEdgeRouteMetadata(this ReverseProxyConventionBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.ConfigureEndpoints(static (endpoint, route) => RouteMetadataConvention.Apply(endpoint, route));
    }
}
