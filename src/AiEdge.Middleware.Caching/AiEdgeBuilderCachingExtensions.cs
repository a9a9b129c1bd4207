using AiEdge.Middleware;
using AiEdge.Middleware.Caching;
using AiEdge.Middleware.Caching.Internal;
using AiEdge.Middleware.Internal;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds prediction caching and Idempotency-Key handling to the AiEdge pipeline.</summary>
public static class AiEdgeBuilderCachingExtensions
{
    /// <summary>The configuration section of the prediction cache.</summary>
    public const string CachingSection = "AiEdge:Caching";

    /// <summary>The configuration section of Idempotency-Key handling.</summary>
    public const string IdempotencySection = "AiEdge:Idempotency";

    private const string StageKey = "AiEdge.Caching";

    /// <summary>
    /// Adds the prediction cache at <see cref="AiEdgeStage.Caching"/>. Only endpoints marked with
    /// <c>.WithPredictionCache()</c> or <c>[PredictionCache]</c> are cached. Options bind from <c>AiEdge:Caching</c>;
    /// an <see cref="IPredictionCacheStore"/> registered by the application (or by <c>AddRedis</c>) holds the coalescing
    /// lock and, with <see cref="PredictionCacheOptions.UseDistributedCache"/>, the second level; without one, an
    /// <c>IDistributedCache</c> registered by the application becomes the second level, with the lock in process.
    /// </summary>
    /// <param name="edge">The AiEdge builder.</param>
    /// <param name="configure">Configures the options after configuration binding.</param>
    /// <returns>The builder.</returns>
    public static IAiEdgeBuilder AddPredictionCache(this IAiEdgeBuilder edge, Action<PredictionCacheOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(edge);
        edge.AddValidatedOptions<PredictionCacheOptions, PredictionCacheOptionsValidator>(CachingSection, configure);

        edge.Services.TryAddSingleton(TimeProvider.System);
        edge.Services.TryAddSingleton<CachingMetrics>();
        edge.Services.TryAddSingleton<SharedCacheLevel>();
        edge.Services.TryAddSingleton<MemoryResponseCache>();
        edge.Services.TryAddSingleton<CachePolicyRegistry>();
        edge.Services.TryAddSingleton<PredictionCacheMarker>();
        edge.Services.TryAddEnumerable(ServiceDescriptor.Transient<Microsoft.AspNetCore.Hosting.IStartupFilter, CachingEndpointValidator>());
        edge.AddStage(AiEdgeStage.Caching, StageKey, UseCaching);
        return edge;
    }

    /// <summary>
    /// Adds Idempotency-Key handling (draft-ietf-httpapi-idempotency-key-header) at <see cref="AiEdgeStage.Caching"/>,
    /// before the prediction cache. Only POST and PATCH requests to endpoints marked with <c>.WithIdempotency()</c>
    /// or <c>[Idempotent]</c> are concerned. Options bind from <c>AiEdge:Idempotency</c>.
    /// Registers an <see cref="InMemoryIdempotencyStore"/> bounded by <see cref="IdempotencyOptions.SizeLimit"/> and,
    /// unless one is registered already, uses it as the <see cref="IIdempotencyStore"/>.
    /// </summary>
    /// <param name="edge">The AiEdge builder.</param>
    /// <param name="configure">Configures the options after configuration binding.</param>
    /// <returns>The builder.</returns>
    public static IAiEdgeBuilder AddIdempotency(this IAiEdgeBuilder edge, Action<IdempotencyOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(edge);
        edge.AddValidatedOptions<IdempotencyOptions, IdempotencyOptionsValidator>(IdempotencySection, configure);

        edge.Services.TryAddSingleton(TimeProvider.System);
        edge.Services.TryAddSingleton<CachingMetrics>();
        edge.Services.TryAddSingleton(static services => CreateIdempotencyStore(services));
        edge.Services.TryAddSingleton<IIdempotencyStore>(static services => services.GetRequiredService<InMemoryIdempotencyStore>());
        edge.Services.TryAddSingleton<IdempotencyMarker>();
        edge.AddStage(AiEdgeStage.Caching, StageKey, UseCaching);
        return edge;
    }

    // The in-memory store bounded by IdempotencyOptions.SizeLimit, reporting to the suite's metrics: the default
    // store, and the fallback a shared store resolves as InMemoryIdempotencyStore.
    private static InMemoryIdempotencyStore CreateIdempotencyStore(IServiceProvider services)
        => new(
            services.GetRequiredService<TimeProvider>(),
            services.GetRequiredService<IOptions<IdempotencyOptions>>().Value.SizeLimit,
            services.GetService<CachingMetrics>());

    // One step for both, so Idempotency-Key always wraps the cache whatever order the Add* calls came in.
    private static void UseCaching(Microsoft.AspNetCore.Builder.IApplicationBuilder app)
    {
        if (app.ApplicationServices.GetService<IdempotencyMarker>() is not null)
        {
            Microsoft.AspNetCore.Builder.UseMiddlewareExtensions.UseMiddleware<IdempotencyMiddleware>(app);
        }

        if (app.ApplicationServices.GetService<PredictionCacheMarker>() is not null)
        {
            Microsoft.AspNetCore.Builder.UseMiddlewareExtensions.UseMiddleware<PredictionCacheMiddleware>(app);
        }
    }
}
