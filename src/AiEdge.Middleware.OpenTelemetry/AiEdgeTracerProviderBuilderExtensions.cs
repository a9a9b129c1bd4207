using AiEdge.Middleware.OpenTelemetry;

namespace OpenTelemetry.Trace;

/// <summary>Subscribes an OpenTelemetry tracer provider to AiEdge spans.</summary>
public static class AiEdgeTracerProviderBuilderExtensions
{
    /// <summary>
    /// Collects the AiEdge activity source: spans around backend and Redis calls. Edge decisions (tier, limit result,
    /// cache status, breaker, replica) are tags on the request's server span, which ASP.NET Core starts from the
    /// <see cref="AiEdgeOpenTelemetry.AspNetCoreActivitySourceName"/> source; <paramref name="includeAspNetCore"/> adds it.
    /// </summary>
    /// <param name="builder">The tracer provider builder.</param>
    /// <param name="includeAspNetCore">Whether to add ASP.NET Core's server spans too.</param>
    /// <returns>The builder.</returns>
    public static TracerProviderBuilder AddAiEdgeInstrumentation(this TracerProviderBuilder builder, bool includeAspNetCore = false)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddSource(AiEdgeOpenTelemetry.ActivitySourceName);
        if (includeAspNetCore)
        {
            builder.AddSource(AiEdgeOpenTelemetry.AspNetCoreActivitySourceName);
        }

        return builder;
    }
}
