using AiEdge.Middleware;
using AiEdge.Middleware.Internal;
using AiEdge.Middleware.Resilience;
using AiEdge.Middleware.Resilience.Internal;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds circuit breakers and backend pools to AiEdge.</summary>
public static class AiEdgeBuilderResilienceExtensions
{
    /// <summary>The configuration section of the resilience options.</summary>
    public const string ConfigurationSection = "AiEdge:Resilience";

    /// <summary>
    /// Adds named circuit breakers (for endpoints marked <c>.WithCircuitBreaker("name")</c>) and backend pools (for
    /// <see cref="HttpClient"/>s bound with <c>AddBackendPool("name")</c> or <see cref="AddModelBackendClient"/>),
    /// bound from <c>AiEdge:Resilience</c> and validated at startup. Every breaker and pool is reported to ASP.NET
    /// Core health checks, and so by <c>/readyz</c>.
    /// </summary>
    /// <param name="edge">The AiEdge builder.</param>
    /// <param name="configure">Configures the options after configuration is bound.</param>
    /// <returns>The builder.</returns>
    public static IAiEdgeBuilder AddResilience(this IAiEdgeBuilder edge, Action<ResilienceOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(edge);
        var options = edge.Services.AddOptions<ResilienceOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        if (edge.HasStage(typeof(CircuitBreakerMiddleware).FullName!))
        {
            return edge;
        }

        edge.AddConfigurationSection<ResilienceOptions>(ConfigurationSection);
        var services = edge.Services;
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ResilienceOptions>, ResilienceOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<ResilienceMetrics>();
        services.TryAddSingleton<BreakerRegistry>();
        services.TryAddSingleton<BackendRelay>();
        services.AddHealthChecks();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IConfigureOptions<HealthCheckServiceOptions>, BreakerHealthCheckRegistrations>());
        services.AddHttpClient(BackendProber.ClientName, static client => client.Timeout = Timeout.InfiniteTimeSpan);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, BackendProber>());
        services.TryAddEnumerable(ServiceDescriptor.Transient<Microsoft.AspNetCore.Hosting.IStartupFilter, BreakerEndpointValidator>());
        edge.AddStage<CircuitBreakerMiddleware>(AiEdgeStage.Resilience);
        return edge;
    }

    /// <summary>
    /// Adds resilience and registers <see cref="ModelBackendClient"/>, a typed client whose calls go to the
    /// backend pool <paramref name="backendName"/> (configured under <c>AiEdge:Resilience:Backends</c> or through
    /// <see cref="AddResilience"/>). Inject <see cref="ModelBackendClient"/> into handlers.
    /// </summary>
    /// <param name="edge">The AiEdge builder.</param>
    /// <param name="backendName">The backend pool's name.</param>
    /// <returns>The builder.</returns>
    public static IAiEdgeBuilder AddModelBackendClient(this IAiEdgeBuilder edge, string backendName)
    {
        ArgumentNullException.ThrowIfNull(edge);
        ArgumentException.ThrowIfNullOrEmpty(backendName);
        edge.AddResilience();
        edge.Services.AddHttpClient<ModelBackendClient>(static client =>
            {
                client.BaseAddress = BackendPoolHttpClientBuilderExtensions.PlaceholderBaseAddress;
                client.Timeout = Timeout.InfiniteTimeSpan;
            })
            .AddBackendPool(backendName);
        return edge;
    }
}
