using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;

namespace AiEdge.Middleware;

/// <summary>Writes the RFC 9457 <c>application/problem+json</c> answers of every AiEdge concern.</summary>
public static class AiEdgeProblems
{
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
}
