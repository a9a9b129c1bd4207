using AiEdge.Middleware.Internal;
using Microsoft.AspNetCore.Http;

namespace AiEdge.Middleware.Health.Internal;

/// <summary>
/// The Health stage: when routing selected an AiEdge probe endpoint, runs it right here (after forwarded headers,
/// security headers and CORS, before authentication, body limits, rate limiting, caching and the application's own
/// middleware), so a probe is never refused, limited or cached. Every other request passes through untouched.
/// </summary>
/// <remarks>
/// Its construction, when the pipeline is built and every endpoint is mapped, is where a probe path claimed by an
/// application endpoint fails startup (see <see cref="HealthEndpointRegistry"/>).
/// </remarks>
internal sealed class HealthMiddleware
{
    private readonly RequestDelegate _next;

    public HealthMiddleware(RequestDelegate next, HealthEndpointRegistry registry)
    {
        _next = next;
        registry.ThrowOnConflicts();
    }

    public Task InvokeAsync(HttpContext context)
    {
        var endpoint = RequestFeatures.Endpoint(context);
        if (endpoint?.RequestDelegate is not { } probe || endpoint.Metadata.GetMetadata<HealthProbeMetadata>() is null)
        {
            return _next(context);
        }

        return IsProbeMethod(context.Request.Method) ? probe(context) : NotAllowedAsync(context);
    }

    private static bool IsProbeMethod(string method) => HttpMethods.IsGet(method) || HttpMethods.IsHead(method);

    private static Task NotAllowedAsync(HttpContext context)
    {
        context.Response.Headers.Allow = "GET, HEAD";
        return AiEdgeProblems.WriteAsync(context, StatusCodes.Status405MethodNotAllowed, "Method not allowed", "Health endpoints answer GET and HEAD.");
    }
}
