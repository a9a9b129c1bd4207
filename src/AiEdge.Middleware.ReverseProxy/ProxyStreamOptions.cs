namespace AiEdge.Middleware.ReverseProxy;

/// <summary>
/// How AiEdge meters and bounds proxied answers, bound from <c>AiEdge:ReverseProxy:Streams</c>. The timeouts apply to
/// every proxied call; a route overrides each of them with the <see cref="AiEdgeRouteMetadata"/> key of the same name.
/// Durations take either syntax (<c>00:00:30</c> or <c>30s</c>); zero switches a timeout off.
/// </summary>
public sealed class ProxyStreamOptions
{
    /// <summary>
    /// Gets or sets whether a streamed OpenAI-compatible call (<c>"stream": true</c>) that a token budget applies to,
    /// and whose caller did not ask for usage, is sent to the backend with <c>"stream_options": {"include_usage": true}</c>
    /// added, so the backend's own count is charged; the extra usage chunk it then sends is removed from the caller's
    /// stream. Switch it off for backends that reject <c>stream_options</c>: tokens are then estimated from the relayed
    /// text.
    /// </summary>
    /// <value>Defaults to <see langword="true"/>. Configuration key: <c>AiEdge:ReverseProxy:Streams:RequestUsage</c>.</value>
    public bool RequestUsage { get; set; } = true;

    /// <summary>
    /// Gets or sets the longest wait from sending a call to the first byte of its answer's body (the first event of an
    /// event stream) reaching the caller: NGINX's <c>proxy_read_timeout</c> before the first read. Nothing has been
    /// relayed when it expires, so a call that cannot double-spend is sent to another destination; any other gets a
    /// 504 problem.
    /// </summary>
    /// <value>Defaults to zero (off: YARP's <c>HttpRequest:ActivityTimeout</c> still applies). Configuration key: <c>AiEdge:ReverseProxy:Streams:FirstByteTimeout</c>.</value>
    public TimeSpan FirstByteTimeout { get; set; }

    /// <summary>
    /// Gets or sets the longest gap between two relayed writes (two events of an event stream) once the answer has
    /// started: NGINX's <c>proxy_read_timeout</c> between reads. When it expires an event stream is ended with a final
    /// <c>event: error</c> and closed; any other answer is aborted, so it never looks complete.
    /// </summary>
    /// <value>Defaults to zero (off). Configuration key: <c>AiEdge:ReverseProxy:Streams:IdleTimeout</c>.</value>
    public TimeSpan IdleTimeout { get; set; }

    /// <summary>
    /// Gets or sets the longest a proxied call may take in all, retries included. Before anything is relayed it ends in
    /// a 504 problem; after, as for <see cref="IdleTimeout"/>.
    /// </summary>
    /// <value>Defaults to zero (off). Configuration key: <c>AiEdge:ReverseProxy:Streams:TotalTimeout</c>.</value>
    public TimeSpan TotalTimeout { get; set; }
}
