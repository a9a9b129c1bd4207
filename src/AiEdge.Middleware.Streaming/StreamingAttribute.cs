namespace AiEdge.Middleware.Streaming;

/// <summary>
/// Marks a controller action or minimal API handler as streaming; the attribute form of <c>.WithStreaming()</c>.
/// </summary>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Method, AllowMultiple = false, Inherited = true)]
public sealed class StreamingAttribute : Attribute, IStreamingMetadata
{
    /// <summary>
    /// Gets or sets the heartbeat interval in seconds: a negative value (the default) uses
    /// <see cref="StreamingOptions.HeartbeatInterval"/>, zero switches heartbeats off for the endpoint.
    /// </summary>
    public double HeartbeatSeconds { get; set; } = -1;

    /// <inheritdoc />
    public TimeSpan? HeartbeatInterval => HeartbeatSeconds < 0 ? null : TimeSpan.FromSeconds(HeartbeatSeconds);
}
