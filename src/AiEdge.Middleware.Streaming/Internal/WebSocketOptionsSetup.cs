using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Options;

namespace AiEdge.Middleware.Streaming.Internal;

/// <summary>Copies <c>AiEdge:Streaming:WebSockets</c> into ASP.NET Core's <see cref="WebSocketOptions"/>.</summary>
internal sealed class WebSocketOptionsSetup(IOptions<StreamingOptions> streaming) : IConfigureOptions<WebSocketOptions>
{
    public void Configure(WebSocketOptions options)
    {
        var webSockets = streaming.Value.WebSockets;
        options.KeepAliveInterval = webSockets.KeepAliveInterval;
        options.KeepAliveTimeout = webSockets.KeepAliveTimeout == TimeSpan.Zero ? Timeout.InfiniteTimeSpan : webSockets.KeepAliveTimeout;
    }
}
