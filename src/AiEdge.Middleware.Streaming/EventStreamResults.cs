using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text.Json;
using AiEdge.Middleware.Streaming;

namespace Microsoft.AspNetCore.Http;

/// <summary>
/// Results that stream server-sent events: items of an <see cref="IAsyncEnumerable{T}"/> (plain data or
/// <see cref="SseItem{T}"/>, the item type of <c>TypedResults.ServerSentEvents</c>) and relays of an upstream stream.
/// </summary>
public static class EventStreamResults
{
    /// <summary>
    /// Streams each item of <paramref name="data"/> as one event (<see cref="string"/> as text, anything else as one
    /// line of JSON), then, when <paramref name="completion"/> is given, a last event with that data (OpenAI-style
    /// streams end with <c>data: [DONE]</c>).
    /// </summary>
    /// <typeparam name="T">The type of the data.</typeparam>
    /// <param name="data">The items, produced as the answer is generated.</param>
    /// <param name="json">JSON options; <see langword="null"/> for the application's.</param>
    /// <param name="eventType">The <c>event</c> field of every item; <see langword="null"/> for none.</param>
    /// <param name="completion">The data of a final event, e.g. <c>"[DONE]"</c>; <see langword="null"/> for none.</param>
    /// <returns>The result.</returns>
    public static EventStreamResult<T> Data<T>(IAsyncEnumerable<T> data, JsonSerializerOptions? json = null, string? eventType = null, string? completion = null)
    {
        ArgumentNullException.ThrowIfNull(data);
        return new EventStreamResult<T>(AsItems(data, eventType), json, completion);
    }

    /// <summary>Streams events given with their <c>id</c>, <c>event</c> and <c>retry</c> fields, then an optional final event.</summary>
    /// <typeparam name="T">The type of the data.</typeparam>
    /// <param name="events">The events, produced as the answer is generated.</param>
    /// <param name="json">JSON options; <see langword="null"/> for the application's.</param>
    /// <param name="completion">The data of a final event, e.g. <c>"[DONE]"</c>; <see langword="null"/> for none.</param>
    /// <returns>The result.</returns>
    public static EventStreamResult<T> Items<T>(IAsyncEnumerable<SseItem<T>> events, JsonSerializerOptions? json = null, string? completion = null)
    {
        ArgumentNullException.ThrowIfNull(events);
        return new EventStreamResult<T>(events, json, completion);
    }

    /// <summary>
    /// Relays <paramref name="upstream"/>, a response received with <see cref="HttpCompletionOption.ResponseHeadersRead"/>,
    /// to the client chunk by chunk as it arrives, never collected first. The result disposes <paramref name="upstream"/>.
    /// </summary>
    /// <param name="upstream">The backend's response.</param>
    /// <returns>The result.</returns>
    public static EventStreamRelayResult Relay(HttpResponseMessage upstream)
    {
        ArgumentNullException.ThrowIfNull(upstream);
        return new EventStreamRelayResult(upstream);
    }

    private static async IAsyncEnumerable<SseItem<T>> AsItems<T>(IAsyncEnumerable<T> data, string? eventType, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var item in data.WithCancellation(cancellationToken))
        {
            yield return new SseItem<T>(item, eventType);
        }
    }
}
