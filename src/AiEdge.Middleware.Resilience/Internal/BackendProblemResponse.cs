using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace AiEdge.Middleware.Resilience.Internal;

/// <summary>
/// The answer a backend pool gives in place of the backend's: 503 when every replica is refused by its breaker,
/// 502 when the backend failed or answered a 5xx, 504 when it timed out. An <c>application/problem+json</c> body,
/// and <c>Retry-After</c> on a 503, so any <see cref="HttpClient"/> user gets a meaningful response.
/// </summary>
internal sealed class BackendProblemResponse : HttpResponseMessage
{
    private static readonly MediaTypeHeaderValue ProblemType = new(AiEdgeProblems.ContentType);

    public BackendProblemResponse(HttpStatusCode status, string title, string detail, int? retryAfterSeconds = null)
        : base(status)
    {
        Title = title;
        Detail = detail;
        RetryAfterSeconds = retryAfterSeconds;
        var json = new StringBuilder(160)
            .Append("{\"type\":").Append(JsonSerializer.Serialize(TypeFor(status)))
            .Append(",\"title\":").Append(JsonSerializer.Serialize(title))
            .Append(",\"status\":").Append((int)status)
            .Append(",\"detail\":").Append(JsonSerializer.Serialize(detail))
            .Append('}')
            .ToString();
        Content = new StringContent(json, Encoding.UTF8);
        Content.Headers.ContentType = ProblemType;
        if (retryAfterSeconds is { } seconds)
        {
            Headers.RetryAfter = new RetryConditionHeaderValue(TimeSpan.FromSeconds(seconds));
        }
    }

    public string Title { get; }

    public string Detail { get; }

    public int? RetryAfterSeconds { get; }

    public static int ToRetryAfterSeconds(TimeSpan remaining)
    {
        if (remaining == TimeSpan.MaxValue || remaining.TotalSeconds > int.MaxValue)
        {
            return int.MaxValue;
        }

        var seconds = (int)Math.Ceiling(remaining.TotalSeconds);
        return seconds < 1 ? 1 : seconds;
    }

    public static string TypeFor(HttpStatusCode status) => status switch
    {
        HttpStatusCode.BadGateway => "https://tools.ietf.org/html/rfc9110#section-15.6.3",
        HttpStatusCode.ServiceUnavailable => "https://tools.ietf.org/html/rfc9110#section-15.6.4",
        HttpStatusCode.GatewayTimeout => "https://tools.ietf.org/html/rfc9110#section-15.6.5",
        _ => "about:blank",
    };
}
