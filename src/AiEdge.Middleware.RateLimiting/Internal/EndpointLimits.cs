namespace AiEdge.Middleware.RateLimiting.Internal;

/// <summary>The tiers of one endpoint, resolved once: enforced ones in lock order, and dry-run ones.</summary>
internal sealed class EndpointLimits
{
    public static readonly EndpointLimits None = new([], [], RateLimitingDefaults.RejectionStatusCode, emitHeaders: false);

    public EndpointLimits(ResolvedTier[] enforced, ResolvedTier[] dryRun, int rejectionStatusCode, bool emitHeaders)
    {
        Enforced = enforced;
        RejectionStatusCode = rejectionStatusCode;
        EmitHeaders = emitHeaders;
        DryRun = dryRun;
        foreach (var tier in enforced)
        {
            if (tier.Budget is not null)
            {
                Budget ??= tier.Budget;
            }
        }

        foreach (var tier in dryRun)
        {
            if (tier.Budget is not null)
            {
                Budget ??= tier.Budget;
            }
        }

        // The allocation-free synchronous path serves request tiers alone; token budgets and dry runs take the async one.
        NeedsAsyncPath = Budget is not null || dryRun.Length > 0;
    }

    /// <summary>Gets the enforced tiers, ordered by <see cref="ResolvedTier.Ordinal"/> (the store's lock order).</summary>
    public ResolvedTier[] Enforced { get; }

    /// <summary>Gets the dry-run tiers (decided and reported, never enforced).</summary>
    public ResolvedTier[] DryRun { get; }

    /// <summary>Gets the token budget settings used to read the body (the first tier's), or <see langword="null"/>.</summary>
    public RateLimitTokenBudget? Budget { get; }

    public bool NeedsAsyncPath { get; }

    /// <summary>Gets the status code of a rejection, as configured when these limits were resolved.</summary>
    public int RejectionStatusCode { get; }

    /// <summary>Gets whether the RateLimit fields are written, as configured when these limits were resolved.</summary>
    public bool EmitHeaders { get; }

    public bool IsEmpty => Enforced.Length == 0 && DryRun.Length == 0;
}
