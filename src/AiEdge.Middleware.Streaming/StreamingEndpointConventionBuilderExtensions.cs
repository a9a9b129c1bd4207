using AiEdge.Middleware.Streaming;
using Microsoft.AspNetCore.Http.Timeouts;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Marks endpoints as streaming.</summary>
public static class StreamingEndpointConventionBuilderExtensions
{
    /// <summary>
    /// Marks the endpoints as streaming (<see cref="IStreamingMetadata"/>): their answers are never compressed or
    /// buffered, request timeouts do not apply to them, and idle <c>text/event-stream</c> answers get a heartbeat
    /// comment every <paramref name="heartbeatInterval"/>.
    /// </summary>
    /// <typeparam name="TBuilder">The endpoint convention builder.</typeparam>
    /// <param name="builder">The endpoints.</param>
    /// <param name="heartbeatInterval">The heartbeat interval of these endpoints; <see langword="null"/> for
    /// <c>AiEdge:Streaming:HeartbeatInterval</c>, <see cref="TimeSpan.Zero"/> for none.</param>
    /// <returns>The builder.</returns>
    public static TBuilder WithStreaming<TBuilder>(this TBuilder builder, TimeSpan? heartbeatInterval = null)
        where TBuilder : IEndpointConventionBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (heartbeatInterval is { } interval)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(interval, TimeSpan.Zero, nameof(heartbeatInterval));
            ArgumentOutOfRangeException.ThrowIfGreaterThan(interval, StreamingDefaults.MaxHeartbeatInterval, nameof(heartbeatInterval));
        }

        var metadata = new StreamingAttribute { HeartbeatSeconds = heartbeatInterval?.TotalSeconds ?? -1 };
        var noTimeout = new DisableRequestTimeoutAttribute();
        builder.Add(endpoint =>
        {
            endpoint.Metadata.Add(metadata);
            endpoint.Metadata.Add(noTimeout);
        });
        return builder;
    }
}
