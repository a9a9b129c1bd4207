using System.Globalization;
using Microsoft.AspNetCore.Http;

namespace AiEdge.Middleware.ReverseProxy.Internal;

/// <summary>The problem answers of the proxy, in the shape and problem types of the Resilience package's.</summary>
internal static class ProxyProblems
{
    public const string BadGatewayType = "https://tools.ietf.org/html/rfc9110#section-15.6.3";
    public const string UnavailableType = "https://tools.ietf.org/html/rfc9110#section-15.6.4";
    public const string TimeoutType = "https://tools.ietf.org/html/rfc9110#section-15.6.5";

    public static Task BadGatewayAsync(HttpContext context, string detail)
        => AiEdgeProblems.WriteAsync(context, StatusCodes.Status502BadGateway, "Backend failed", detail, BadGatewayType);

    public static Task TimeoutAsync(HttpContext context)
        => AiEdgeProblems.WriteAsync(context, StatusCodes.Status504GatewayTimeout, "Backend timed out", "The backend did not answer in time.", TimeoutType);

    public static Task UnavailableAsync(HttpContext context, int retryAfterSeconds, string detail)
    {
        context.Response.Headers.RetryAfter = retryAfterSeconds.ToString(CultureInfo.InvariantCulture);
        return AiEdgeProblems.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, "Backend unavailable", detail, UnavailableType);
    }
}
