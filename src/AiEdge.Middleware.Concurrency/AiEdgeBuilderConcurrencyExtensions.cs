using AiEdge.Middleware;
using AiEdge.Middleware.Concurrency;
using AiEdge.Middleware.Concurrency.Internal;
using AiEdge.Middleware.Internal;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds concurrency tiers (load shedding) to the AiEdge pipeline.</summary>
public static class AiEdgeBuilderConcurrencyExtensions
{
    /// <summary>
    /// Adds concurrency tiers: tiers from <c>AiEdge:Concurrency</c> and <paramref name="configure"/>, applied to
    /// endpoints marked with <c>.WithConcurrencyTier(name)</c> or <see cref="ConcurrencyTierAttribute"/>, at
    /// <see cref="AiEdgeStage.Concurrency"/> (after rate limiting and the prediction cache, so cache hits and coalesced
    /// requests never take a slot). Adds a <c>concurrency</c> entry to the health checks (<c>/readyz</c>) and the
    /// fields <c>conc_tier</c>, <c>conc</c> (the decision), <c>conc_wait</c> (ms queued) and <c>conc_reason</c> (of a
    /// rejection) to the access log's line (<see cref="AccessLogField"/>). Invalid
    /// settings and unknown tier names fail at startup. Calling it again only adds configuration.
    /// </summary>
    /// <param name="edge">The AiEdge builder.</param>
    /// <param name="configure">Adds tiers and sets options in code (applied after configuration).</param>
    /// <returns>The builder.</returns>
    public static IAiEdgeBuilder AddConcurrency(this IAiEdgeBuilder edge, Action<ConcurrencyOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(edge);
        edge.AddValidatedOptions<ConcurrencyOptions, ConcurrencyOptionsValidator>("AiEdge:Concurrency", configure);

        var services = edge.Services;
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<ConcurrencyMetrics>();
        services.TryAddSingleton(static sp => new InMemoryConcurrencyStore(sp.GetRequiredService<TimeProvider>()));
        services.TryAddSingleton<IConcurrencyStore>(static sp => sp.GetRequiredService<InMemoryConcurrencyStore>());
        services.TryAddSingleton(static _ => new ConcurrencySlotSignal());
        services.TryAddSingleton<ConcurrencyTierRegistry>();
        services.TryAddSingleton<LeaseRenewer>();
        services.AddHealthChecks();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IConfigureOptions<HealthCheckServiceOptions>, ConcurrencyHealthCheckRegistration>());
        edge.AddStage<ConcurrencyMiddleware>(AiEdgeStage.Concurrency);

        // The access log's line shows the tier, the decision, the time queued and a rejection's reason.
        edge.AddAccessLogField(AccessLogField.Text("conc_tier", ConcurrencyMetrics.TierTag))
            .AddAccessLogField(AccessLogField.Text("conc", ConcurrencyMetrics.DecisionTag))
            .AddAccessLogField(AccessLogField.Milliseconds("conc_wait", ConcurrencyMetrics.QueueWait))
            .AddAccessLogField(AccessLogField.Text("conc_reason", ConcurrencyMetrics.ReasonDecision));
        return edge;
    }

    /// <summary>
    /// Counts concurrency slots in <typeparamref name="TStore"/> instead of <see cref="InMemoryConcurrencyStore"/>: one
    /// singleton, created by DI, shared by every tier. The store must honour the <see cref="IConcurrencyStore"/>
    /// contract (check it with <c>ConcurrencyStoreConformance</c> from <c>AiEdge.Middleware.Conformance</c>). Replaces
    /// any store registered before; call it before or after <see cref="AddConcurrency"/>.
    /// </summary>
    /// <typeparam name="TStore">The store.</typeparam>
    /// <param name="edge">The AiEdge builder.</param>
    /// <returns>The builder.</returns>
    public static IAiEdgeBuilder AddConcurrencyStore<TStore>(this IAiEdgeBuilder edge)
        where TStore : class, IConcurrencyStore
    {
        ArgumentNullException.ThrowIfNull(edge);
        edge.Services.Replace(ServiceDescriptor.Singleton<IConcurrencyStore, TStore>());
        return edge;
    }
}
