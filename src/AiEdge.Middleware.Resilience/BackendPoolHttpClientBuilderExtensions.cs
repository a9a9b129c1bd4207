using AiEdge.Middleware.Resilience;
using AiEdge.Middleware.Resilience.Internal;
using Microsoft.Extensions.Logging;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// Sends an <see cref="HttpClient"/>'s calls to a backend pool. (Named apart from
/// <c>Microsoft.Extensions.Http.Resilience</c>'s <c>ResilienceHttpClientBuilderExtensions</c>, which shares the
/// namespace and which this package builds on.)
/// </summary>
public static class BackendPoolHttpClientBuilderExtensions
{
    /// <summary>A base address for clients of a pool: the pool replaces scheme, host and base path with a replica's.</summary>
    public static readonly Uri PlaceholderBaseAddress = new("http://aiedge.backend/");

    /// <summary>
    /// Sends the client's calls to the replicas of backend pool <paramref name="backendName"/>. Three handlers go on
    /// the client, outermost first: one that turns failures into 502, 503 (with <c>Retry-After</c>) and 504 problem
    /// responses; the resilience handler of <c>Microsoft.Extensions.Http.Resilience</c> (pipeline
    /// <c>AiEdge.Backend.{backendName}</c>) with the pool's <c>TotalTimeout</c> and its retries, which only send again a
    /// call that failed before any answer was returned and is safe to repeat (an idempotent method, a request marked
    /// with <see cref="BackendRequestOptions.Idempotent"/>, or one carrying an <c>Idempotency-Key</c> header), each time
    /// to the least loaded available replica; and the pool's replica selection, each replica behind its own breaker and
    /// <c>AttemptTimeout</c>. Request URIs are taken relative to the replica's URL (use
    /// <see cref="PlaceholderBaseAddress"/> as the client's base address). Requires <c>edge.AddResilience()</c>. The
    /// backend is looked up when the client is first created, so it may be configured conditionally; creating a client
    /// of a backend that is not configured fails, naming the key.
    /// </summary>
    /// <param name="builder">The client builder.</param>
    /// <param name="backendName">The backend pool's name.</param>
    /// <returns>The client builder.</returns>
    public static IHttpClientBuilder AddBackendPool(this IHttpClientBuilder builder, string backendName)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(backendName);
        builder.AddHttpMessageHandler(services => new BackendPoolHandler(
            Pool(services, backendName),
            services.GetRequiredService<ResilienceMetrics>(),
            services.GetRequiredService<ILogger<BackendPoolHandler>>()));
        builder.AddResilienceHandler("AiEdge.Backend." + backendName, (pipeline, context) =>
            BackendRetry.Configure(pipeline, Pool(context.ServiceProvider, backendName).Settings, context.ServiceProvider.GetRequiredService<TimeProvider>()));
        builder.AddHttpMessageHandler(services => new ReplicaHandler(
            Pool(services, backendName),
            services.GetRequiredService<ResilienceMetrics>(),
            services.GetRequiredService<TimeProvider>()));
        return builder;
    }

    private static BackendPool Pool(IServiceProvider services, string backendName)
    {
        var registry = services.GetService<BreakerRegistry>()
            ?? throw new InvalidOperationException("AddBackendPool(\"" + backendName + "\") needs edge.AddResilience() on the AiEdge builder.");
        return registry.GetPool(backendName);
    }
}
