using AiEdge.Middleware.OpenTelemetry;

namespace OpenTelemetry.Metrics;

/// <summary>Subscribes an OpenTelemetry meter provider to AiEdge metrics.</summary>
public static class AiEdgeMeterProviderBuilderExtensions
{
    /// <summary>
    /// Collects the AiEdge meter: rate-limit decisions, token budgets, cache results, streams, breakers, backend and
    /// Redis latency. With <paramref name="includeAspNetCore"/>, also ASP.NET Core's own server meters
    /// (<see cref="AiEdgeOpenTelemetry.AspNetCoreMeterNames"/>), which provide <c>http.server.request.duration</c>.
    /// </summary>
    /// <param name="builder">The meter provider builder.</param>
    /// <param name="includeAspNetCore">Whether to add ASP.NET Core's built-in meters too.</param>
    /// <returns>The builder.</returns>
    public static MeterProviderBuilder AddAiEdgeInstrumentation(this MeterProviderBuilder builder, bool includeAspNetCore = false)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddMeter(AiEdgeOpenTelemetry.MeterName);
        if (includeAspNetCore)
        {
            builder.AddMeter([.. AiEdgeOpenTelemetry.AspNetCoreMeterNames]);
        }

        return builder;
    }
}
