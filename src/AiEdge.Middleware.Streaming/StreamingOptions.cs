namespace AiEdge.Middleware.Streaming;

/// <summary>
/// Options of the streaming concern, bound from <c>AiEdge:Streaming</c>: how event streams are recognized, how often
/// idle streams get a heartbeat, and the keep-alive settings of WebSocket endpoints.
/// </summary>
public sealed class StreamingOptions
{
    /// <summary>The configuration section the options are bound from.</summary>
    public const string ConfigurationSection = "AiEdge:Streaming";

    /// <summary>
    /// Gets or sets how long an event stream may stay silent before a heartbeat comment (<c>: keep-alive</c>) is
    /// written between two events, so proxies and load balancers with read timeouts keep the connection open.
    /// <see cref="TimeSpan.Zero"/> switches heartbeats off. An endpoint may override it with <c>.WithStreaming(...)</c>.
    /// </summary>
    /// <value>Defaults to 15 seconds. Configuration key: <c>AiEdge:Streaming:HeartbeatInterval</c> (e.g. <c>"00:00:15"</c>).</value>
    public TimeSpan HeartbeatInterval { get; set; } = StreamingDefaults.HeartbeatInterval;

    /// <summary>
    /// Gets or sets whether any response that starts with <c>Content-Type: text/event-stream</c> (or one of
    /// <see cref="AdditionalContentTypes"/>) is treated as a stream, also on endpoints not marked with
    /// <c>.WithStreaming()</c>. When <see langword="false"/>, only marked endpoints are touched.
    /// </summary>
    /// <value>Defaults to <see langword="true"/>. Configuration key: <c>AiEdge:Streaming:DetectEventStreams</c>.</value>
    public bool DetectEventStreams { get; set; } = true;

    /// <summary>
    /// Gets the media types, besides <c>text/event-stream</c>, whose responses are streamed without buffering or
    /// compression (for example <c>application/x-ndjson</c>). Heartbeats are only written to <c>text/event-stream</c>.
    /// </summary>
    /// <value>Empty by default. Configuration key: <c>AiEdge:Streaming:AdditionalContentTypes</c> (array).</value>
    public IList<string> AdditionalContentTypes { get; } = [];

    /// <summary>Gets the settings of WebSocket endpoints.</summary>
    /// <value>Configuration section: <c>AiEdge:Streaming:WebSockets</c>.</value>
    public WebSocketStreamingOptions WebSockets { get; } = new();
}

/// <summary>
/// WebSocket settings: the in-app counterpart of a long <c>proxy_read_timeout</c>. Pings keep idle connections open
/// through proxies; the idle timeout closes connections on which nothing was received for too long.
/// </summary>
public sealed class WebSocketStreamingOptions
{
    /// <summary>Gets or sets the interval of WebSocket ping (keep-alive) frames; <see cref="TimeSpan.Zero"/> sends none.</summary>
    /// <value>Defaults to 15 seconds. Configuration key: <c>AiEdge:Streaming:WebSockets:KeepAliveInterval</c>.</value>
    public TimeSpan KeepAliveInterval { get; set; } = StreamingDefaults.WebSocketKeepAliveInterval;

    /// <summary>
    /// Gets or sets how long to wait for the peer's answer to a ping before the connection is aborted;
    /// <see cref="TimeSpan.Zero"/> waits forever.
    /// </summary>
    /// <value>Defaults to zero (no timeout). Configuration key: <c>AiEdge:Streaming:WebSockets:KeepAliveTimeout</c>.</value>
    public TimeSpan KeepAliveTimeout { get; set; }

    /// <summary>
    /// Gets or sets how long a WebSocket may go without receiving a message before the server closes it (close
    /// status 1001, going away); <see cref="TimeSpan.Zero"/> never closes an idle connection.
    /// </summary>
    /// <value>Defaults to zero (off). Configuration key: <c>AiEdge:Streaming:WebSockets:IdleTimeout</c>.</value>
    public TimeSpan IdleTimeout { get; set; }
}

/// <summary>The default values of <see cref="StreamingOptions"/>.</summary>
public static class StreamingDefaults
{
    /// <summary>The default heartbeat interval: 15 seconds.</summary>
    public static readonly TimeSpan HeartbeatInterval = TimeSpan.FromSeconds(15);

    /// <summary>The default WebSocket keep-alive interval: 15 seconds.</summary>
    public static readonly TimeSpan WebSocketKeepAliveInterval = TimeSpan.FromSeconds(15);

    /// <summary>The largest accepted heartbeat interval: one hour.</summary>
    public static readonly TimeSpan MaxHeartbeatInterval = TimeSpan.FromHours(1);
}
