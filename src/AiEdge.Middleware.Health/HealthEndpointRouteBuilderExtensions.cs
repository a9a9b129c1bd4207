using AiEdge.Middleware.Health.Internal;
using Microsoft.AspNetCore.Routing;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps the AiEdge liveness and readiness endpoints where the application chooses.</summary>
public static class HealthEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Maps the liveness (<c>AiEdge:Health:LivenessPath</c>, <c>/healthz</c>) and readiness
    /// (<c>AiEdge:Health:ReadinessPath</c>, <c>/readyz</c>) endpoints: ASP.NET Core health-check endpoints
    /// (<c>MapHealthChecks</c>) with AiEdge's JSON body, status codes and cached readiness, routed like any endpoint
    /// (their <c>http.route</c> is their path) and marked <c>AllowAnonymous</c>, <c>DisableRateLimiting</c> and
    /// output-cache <c>NoCache</c>.
    /// The AiEdge Health stage runs them before authentication, body limits, rate limiting and caching.
    /// </summary>
    /// <remarks>
    /// <c>UseAiEdge()</c> calls this itself unless <c>AiEdge:Health:MapEndpoints</c> is <see langword="false"/>; call
    /// it only with that setting, e.g. on a route group or inside <c>UseEndpoints</c>. When the pipeline is built,
    /// startup fails if another endpoint is mapped on a probe path, naming the path and the setting to change.
    /// </remarks>
    /// <param name="endpoints">The application or route group to map the endpoints on.</param>
    /// <returns>The conventions of both endpoints (e.g. <c>.RequireHost("*:8081")</c>).</returns>
    /// <exception cref="InvalidOperationException">
    /// AiEdge health is not registered (<c>AddAiEdge()</c> or <c>AddHealth()</c>), or the endpoints are already
    /// mapped on <paramref name="endpoints"/>.
    /// </exception>
    public static IEndpointConventionBuilder MapAiEdgeHealth(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        return HealthEndpoints.Map(endpoints);
    }
}
