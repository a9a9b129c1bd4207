using AiEdge.Middleware.Internal;
using AiEdge.Middleware;
using AiEdge.Middleware.RateLimiting;
using AiEdge.Middleware.RateLimiting.Internal;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds tiered rate limiting to the AiEdge pipeline.</summary>
public static class AiEdgeBuilderRateLimitingExtensions
{
    /// <summary>
    /// Adds tiered rate limiting: tiers from <c>AiEdge:RateLimiting</c> and <paramref name="configure"/>, applied to
    /// endpoints marked with <c>.WithRateLimitTier(name)</c> or <see cref="RateLimitTierAttribute"/>. Invalid settings
    /// and unknown tier names fail at startup. Calling it again only adds configuration.
    /// </summary>
    /// <param name="edge">The AiEdge builder.</param>
    /// <param name="configure">Adds tiers and sets options in code (applied after configuration).</param>
    /// <returns>The builder.</returns>
    public static IAiEdgeBuilder AddRateLimiting(this IAiEdgeBuilder edge, Action<RateLimitingOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(edge);
        edge.AddValidatedOptions<RateLimitingOptions, RateLimitingOptionsValidator>("AiEdge:RateLimiting", configure);

        edge.Services.TryAddSingleton(TimeProvider.System);
        edge.Services.TryAddSingleton<RateLimitingMetrics>();
        edge.Services.TryAddSingleton(static sp => new InMemoryRateLimitStore(
            sp.GetRequiredService<IOptions<RateLimitingOptions>>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetService<RateLimitingMetrics>()));
        edge.Services.TryAddSingleton<IRateLimitStore>(static sp => sp.GetRequiredService<InMemoryRateLimitStore>());
        edge.Services.TryAddSingleton(static sp => new TierRegistry(
            sp.GetRequiredService<IOptionsMonitor<RateLimitingOptions>>(),
            sp,
            sp.GetRequiredService<Microsoft.Extensions.Logging.ILogger<TierRegistry>>()));
        edge.AddStage<RateLimitingMiddleware>(AiEdgeStage.RateLimiting);
        return edge;
    }

    /// <summary>
    /// Keeps rate-limit state in <typeparamref name="TStore"/> instead of <see cref="InMemoryRateLimitStore"/>: one
    /// singleton, created by DI, that every tier decides through. The store must honour the
    /// <see cref="IRateLimitStore"/> contract (check it with <c>RateLimitStoreConformance</c> from
    /// <c>AiEdge.Middleware.Conformance</c>). Replaces any store registered before; call it before or after
    /// <see cref="AddRateLimiting"/>. Equivalent to <c>services.AddSingleton&lt;IRateLimitStore, TStore&gt;()</c>
    /// after <c>AddRateLimiting</c>.
    /// </summary>
    /// <typeparam name="TStore">The store.</typeparam>
    /// <param name="edge">The AiEdge builder.</param>
    /// <returns>The builder.</returns>
    public static IAiEdgeBuilder AddRateLimitStore<TStore>(this IAiEdgeBuilder edge)
        where TStore : class, IRateLimitStore
    {
        ArgumentNullException.ThrowIfNull(edge);
        edge.Services.Replace(ServiceDescriptor.Singleton<IRateLimitStore, TStore>());
        return edge;
    }
}
