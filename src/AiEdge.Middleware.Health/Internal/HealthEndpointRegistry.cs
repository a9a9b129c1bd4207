using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;

namespace AiEdge.Middleware.Health.Internal;

/// <summary>
/// Remembers where the probe endpoints were mapped, and when the pipeline is built checks that no other endpoint
/// claims their paths: two endpoints on one path would be an ambiguous match on every probe, and an application's
/// own <c>MapHealthChecks("/healthz")</c> must never be silently shadowed (or shadow AiEdge's).
/// </summary>
internal sealed class HealthEndpointRegistry
{
    private readonly List<IEndpointRouteBuilder> _mapped = [];
    private string _livenessPath = "";
    private string _readinessPath = "";

    public void Add(IEndpointRouteBuilder endpoints, EdgeHealthOptions options)
    {
        lock (_mapped)
        {
            foreach (var mapped in _mapped)
            {
                if (ReferenceEquals(mapped, endpoints))
                {
                    throw new InvalidOperationException(
                        "The AiEdge health endpoints are mapped twice. UseAiEdge() maps them unless AiEdge:Health:MapEndpoints is false: "
                        + "either remove the call to MapAiEdgeHealth() or set AiEdge:Health:MapEndpoints to false.");
                }
            }

            _mapped.Add(endpoints);
            _livenessPath = options.LivenessPath;
            _readinessPath = options.ReadinessPath;
        }
    }

    /// <summary>Throws, naming the path and the setting to change, when another endpoint claims a probe path.</summary>
    public void ThrowOnConflicts()
    {
        IEndpointRouteBuilder[] mapped;
        lock (_mapped)
        {
            mapped = [.. _mapped];
        }

        var probes = 0;
        foreach (var endpoints in mapped)
        {
            foreach (var source in endpoints.DataSources)
            {
                foreach (var endpoint in source.Endpoints)
                {
                    if (endpoint is not RouteEndpoint route || LiteralPath(route.RoutePattern) is not { } path)
                    {
                        continue;
                    }

                    var key = SameProbePath(path, _livenessPath) ? "LivenessPath"
                        : SameProbePath(path, _readinessPath) ? "ReadinessPath"
                        : null;
                    if (key is null)
                    {
                        continue;
                    }

                    if (endpoint.Metadata.GetMetadata<HealthProbeMetadata>() is not null)
                    {
                        probes++;
                        continue;
                    }

                    var probe = key == "LivenessPath" ? "liveness" : "readiness";
                    throw new InvalidOperationException(
                        $"The application maps its own endpoint '{endpoint.DisplayName}' on {path}, the path of the AiEdge {probe} probe. "
                        + $"Move the AiEdge probe with AiEdge:Health:{key}, remove the application's endpoint, or set AiEdge:Health:MapEndpoints "
                        + "to false to leave the path to the application (app.MapAiEdgeHealth() then maps the AiEdge probes where you choose).");
                }
            }
        }

        if (probes > 2)
        {
            throw new InvalidOperationException(
                "The AiEdge health endpoints are mapped more than once. UseAiEdge() maps them unless AiEdge:Health:MapEndpoints is false: "
                + "either remove the call to MapAiEdgeHealth() or set AiEdge:Health:MapEndpoints to false.");
        }
    }

    /// <summary>The path a pattern matches when it has no parameter (e.g. <c>/healthz</c>), else <see langword="null"/>.</summary>
    private static string? LiteralPath(RoutePattern pattern)
    {
        if (pattern.Parameters.Count > 0)
        {
            return null;
        }

        var path = "";
        foreach (var segment in pattern.PathSegments)
        {
            foreach (var part in segment.Parts)
            {
                if (part is not RoutePatternLiteralPart literal)
                {
                    return null;
                }

                path += "/" + literal.Content;
            }
        }

        return path.Length == 0 ? "/" : path;
    }

    private static bool SameProbePath(string routePath, string probePath)
        => new PathString(routePath.TrimEnd('/')).Equals(new PathString(probePath.TrimEnd('/')), StringComparison.OrdinalIgnoreCase);
}
