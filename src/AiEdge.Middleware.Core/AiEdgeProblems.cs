using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;

namespace AiEdge.Middleware;

/// <summary>Writes the RFC 9457 <c>application/problem+json</c> answers of every AiEdge concern.</summary>
public static class AiEdgeProblems
{
    private static readonly byte[] BackendStreamBrokenEvent =
        "event: error\ndata: {\"error\":{\"message\":\"The model backend broke the stream.\",\"type\":\"server_error\",\"code\":\"backend_stream_broken\"}}\n\n"u8.ToArray();

    /// <summary>The media type of every AiEdge error body.</summary>
    public const string ContentType = "application/problem+json";

    /// <summary>
    /// Answers the request with a problem details body, through the application's <see cref="IProblemDetailsService"/>
    /// when it accepts the request (so <c>CustomizeProblemDetails</c> applies), else as plain problem JSON.
    /// Does nothing when the response has already started.
    /// </summary>
    /// <param name="context">The request to answer.</param>
    /// <param name="statusCode">The status code.</param>
    /// <param name="title">A short summary of the problem type.</param>
    /// <param name="detail">An explanation specific to this occurrence.</param>
    /// <param name="type">A URI identifying the problem type; <see langword="null"/> for the RFC 9110 section of the status.</param>
    /// <param name="extensions">Additional members of the problem object.</param>
    /// <returns>A task that completes when the body is written.</returns>
    public static Task WriteAsync(
        HttpContext context,
        int statusCode,
        string title,
        string? detail = null,
        string? type = null,
        IEnumerable<KeyValuePair<string, object?>>? extensions = null)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Response.HasStarted)
        {
            return Task.CompletedTask;
        }

        var problem = new ProblemDetails
        {
            Status = statusCode,
            Title = title,
            Detail = detail,
            Type = type,
            Instance = context.Request.Path.HasValue ? context.Request.Path.Value : null,
        };
        if (extensions is not null)
        {
            foreach (var (key, value) in extensions)
            {
                problem.Extensions[key] = value;
            }
        }

        context.Response.StatusCode = statusCode;
        return TypedResults.Problem(problem).ExecuteAsync(context);
    }

    /// <summary>
    /// Ends an event stream whose backend broke mid-answer: writes and flushes the one final event every AiEdge relay
    /// sends, <c>event: error</c> with the data
    /// <c>{"error":{"message":"The model backend broke the stream.","type":"server_error","code":"backend_stream_broken"}}</c>
    /// (the OpenAI error shape, so the OpenAI SDKs raise an error instead of returning a truncated answer). Write it
    /// only between two events (after a blank line); the caller then ends the response normally.
    /// </summary>
    /// <param name="response">The started <c>text/event-stream</c> response.</param>
    /// <param name="cancellationToken">Cancels the write; usually <see cref="HttpContext.RequestAborted"/>.</param>
    /// <returns>A task that completes when the event is flushed.</returns>
    public static async Task WriteBackendStreamBrokenEventAsync(HttpResponse response, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(response);
        await response.Body.WriteAsync(BackendStreamBrokenEvent, cancellationToken).ConfigureAwait(false);
        await response.Body.FlushAsync(cancellationToken).ConfigureAwait(false);
    }
}
