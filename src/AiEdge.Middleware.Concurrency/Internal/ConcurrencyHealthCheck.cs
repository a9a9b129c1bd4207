using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace AiEdge.Middleware.Concurrency.Internal;

/// <summary>
/// The concurrency entry of <c>/readyz</c>: always Healthy (a full tier sheds load, it is not down), with each tier's
/// current limit, in flight and queued, and an adaptive tier's floor and ceiling, in its data.
/// </summary>
internal sealed class ConcurrencyHealthCheck(ConcurrencyTierRegistry registry) : IHealthCheck
{
    public const string Name = "concurrency";

    public static readonly string[] Tags = ["aiedge", "concurrency", "ready"];

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var data = new Dictionary<string, object>(StringComparer.Ordinal);
        foreach (var tier in registry.All)
        {
            var (inFlight, queued) = tier.Totals();
            var prefix = tier.Name + ".";
            data[prefix + "limit"] = tier.CurrentLimit;
            data[prefix + "in_flight"] = inFlight;
            data[prefix + "queued"] = queued;
            if (tier.Adaptive is { } adaptive)
            {
                data[prefix + "limit_min"] = adaptive.Min;
                data[prefix + "limit_max"] = adaptive.Max;
            }
        }

        return Task.FromResult(HealthCheckResult.Healthy("Concurrency tiers shed load over their limits.", data));
    }
}

/// <summary>Registers <see cref="ConcurrencyHealthCheck"/> with the application's health checks.</summary>
internal sealed class ConcurrencyHealthCheckRegistration : IConfigureOptions<HealthCheckServiceOptions>
{
    public void Configure(HealthCheckServiceOptions options)
    {
        foreach (var registration in options.Registrations)
        {
            if (registration.Name == ConcurrencyHealthCheck.Name)
            {
                return;
            }
        }

        options.Registrations.Add(new HealthCheckRegistration(
            ConcurrencyHealthCheck.Name,
            static sp => new ConcurrencyHealthCheck(Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<ConcurrencyTierRegistry>(sp)),
            HealthStatus.Unhealthy,
            ConcurrencyHealthCheck.Tags));
    }
}
