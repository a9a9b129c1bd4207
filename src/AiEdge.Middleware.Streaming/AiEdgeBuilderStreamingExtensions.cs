using AiEdge.Middleware;
using AiEdge.Middleware.Internal;
using AiEdge.Middleware.Streaming;
using AiEdge.Middleware.Streaming.Internal;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds SSE-safe buffering control to the AiEdge pipeline.</summary>
public static class AiEdgeBuilderStreamingExtensions
{
    /// <summary>
    /// Adds the streaming stage: event streams (<c>text/event-stream</c> answers and endpoints marked with
    /// <c>.WithStreaming()</c>) are sent without buffering or compression, each event flushed when written, with
    /// <c>Cache-Control: no-cache, no-transform</c> and <c>X-Accel-Buffering: no</c>, no request timeout, heartbeat
    /// comments on idle streams, and quiet handling of client disconnects. WebSocket requests get the configured
    /// keep-alive and idle timeout. Options are bound from <c>AiEdge:Streaming</c> and validated at startup.
    /// </summary>
    /// <param name="edge">The AiEdge builder.</param>
    /// <param name="configure">Adjusts the options after configuration binding.</param>
    /// <returns>The builder.</returns>
    public static IAiEdgeBuilder AddStreaming(this IAiEdgeBuilder edge, Action<StreamingOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(edge);
        edge.AddValidatedOptions<StreamingOptions, StreamingOptionsValidator>(StreamingOptions.ConfigurationSection, configure);

        edge.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IConfigureOptions<WebSocketOptions>, WebSocketOptionsSetup>());
        edge.Services.TryAddSingleton(TimeProvider.System);
        edge.Services.TryAddSingleton<StreamingMetrics>();
        // Only a request that may be a WebSocket handshake goes through ASP.NET Core's WebSocket middleware: it would
        // otherwise make and set a handshake feature on every HTTP/1.1 request.
        edge.AddStage(AiEdgeStage.Streaming, "AiEdge.Streaming.WebSockets", static app => app.UseWhen(StreamingMiddleware.MayBeWebSocketHandshake, static branch => branch.UseWebSockets()));
        edge.AddStage<StreamingMiddleware>(AiEdgeStage.Streaming);
        return edge;
    }
}
