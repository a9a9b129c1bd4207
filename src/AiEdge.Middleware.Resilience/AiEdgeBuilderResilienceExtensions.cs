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
                client.BaseAddress = ResilienceHttpClientBuilderExtensions.PlaceholderBaseAddress;
                client.Timeout = Timeout.InfiniteTimeSpan;
            })
            .AddBackendPool(backendName);
        return edge;
    }
}

/// <summary>Sends an <see cref="HttpClient"/>'s calls to a backend pool.</summary>
public static class ResilienceHttpClientBuilderExtensions
{
    /// <summary>A base address for clients of a pool: the pool replaces scheme, host and base path with a replica's.</summary>
    public static readonly Uri PlaceholderBaseAddress = new("http://aiedge.backend/");

    /// <summary>
    /// Sends the client's calls to the replicas of backend pool <paramref name="backendName"/> through their
    /// circuit breakers, timeouts and retries (for idempotent calls). Request URIs are taken relative to the
    /// replica's URL (use <see cref="PlaceholderBaseAddress"/> as the client's base address). Requires
    /// <c>edge.AddResilience()</c>. The backend is looked up when the client is first created, so it may be
    /// configured conditionally; creating a client of a backend that is not configured fails, naming the key.
    /// </summary>
    /// <param name="builder">The client builder.</param>
    /// <param name="backendName">The backend pool's name.</param>
    /// <returns>The client builder.</returns>
    public static IHttpClientBuilder AddBackendPool(this IHttpClientBuilder builder, string backendName)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(backendName);
        builder.AddHttpMessageHandler(services =>
        {
            var registry = services.GetService<BreakerRegistry>()
                ?? throw new InvalidOperationException("AddBackendPool(\"" + backendName + "\") needs edge.AddResilience() on the AiEdge builder.");
            return new BackendPoolHandler(
                registry.GetPool(backendName),
                services.GetRequiredService<ResilienceMetrics>(),
                services.GetRequiredService<TimeProvider>(),
                services.GetRequiredService<ILogger<BackendPoolHandler>>());
        });
        return builder;
    }
}
