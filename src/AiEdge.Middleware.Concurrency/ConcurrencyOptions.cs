namespace AiEdge.Middleware.Concurrency;

/// <summary>Concurrency tiers (load shedding), bound from <c>AiEdge:Concurrency</c>.</summary>
public sealed class ConcurrencyOptions
{
    /// <summary>Gets the tiers, by name (case-insensitive).</summary>
    /// <value>Configuration key: <c>AiEdge:Concurrency:Tiers:&lt;name&gt;</c>.</value>
    public IDictionary<string, ConcurrencyTier> Tiers { get; } = new Dictionary<string, ConcurrencyTier>(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// Gets the plans in the order their queued requests are served, highest priority first (e.g. <c>pro</c>, then
    /// <c>free</c>). Requests of a plan not listed, or of no plan, come last.
    /// </summary>
    /// <value>Empty by default (first come, first served). Configuration key: <c>AiEdge:Concurrency:PlanPriority:0</c>, <c>:1</c>, ...</value>
    public IList<string> PlanPriority { get; } = new List<string>();

    /// <summary>
    /// Gets or sets the starvation bound: once this many requests of higher priority have been served while a request
    /// of lower priority waited at the head of its queue, it is served next.
    /// </summary>
    /// <value>Defaults to 4. Configuration key: <c>AiEdge:Concurrency:StarvationLimit</c>.</value>
    public int StarvationLimit { get; set; } = ConcurrencyDefaults.StarvationLimit;

    /// <summary>
    /// Gets or sets how long a slot stays taken in the store without renewal. Held slots are renewed every third of
    /// it, so a slot outlives its request only when the replica holding it dies, and then by at most this long.
    /// </summary>
    /// <value>Defaults to 30 seconds. Configuration key: <c>AiEdge:Concurrency:LeaseDuration</c> (<c>00:00:30</c>).</value>
    public TimeSpan LeaseDuration { get; set; } = ConcurrencyDefaults.LeaseDuration;

    /// <summary>Adds or replaces the tier <paramref name="name"/>.</summary>
    /// <param name="name">The tier's name, as endpoints reference it.</param>
    /// <param name="configure">Sets the tier's limit, queue and the rest.</param>
    /// <returns>These options.</returns>
    public ConcurrencyOptions AddTier(string name, Action<ConcurrencyTier> configure)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(configure);
        if (!Tiers.TryGetValue(name, out var tier))
        {
            tier = new ConcurrencyTier();
            Tiers[name] = tier;
        }

        configure(tier);
        return this;
    }
}
