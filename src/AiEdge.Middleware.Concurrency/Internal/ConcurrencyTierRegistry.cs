using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AiEdge.Middleware.Concurrency.Internal;

/// <summary>The configured tiers, turned once at startup into <see cref="TierState"/>s over the registered store.</summary>
internal sealed partial class ConcurrencyTierRegistry
{
    private readonly Dictionary<string, TierState> _tiers = new(StringComparer.OrdinalIgnoreCase);
    private readonly ILogger _logger;

    public ConcurrencyTierRegistry(IOptions<ConcurrencyOptions> options, IConcurrencyStore store, ConcurrencySlotSignal signal, TimeProvider time, ILogger<ConcurrencyTierRegistry> logger)
    {
        var value = options.Value;
        _logger = logger;
        var priorities = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        foreach (var plan in value.PlanPriority)
        {
            priorities.TryAdd(plan, priorities.Count);
        }

        foreach (var (name, tier) in value.Tiers)
        {
            _tiers[name] = new TierState(name, tier, priorities, value.StarvationLimit, value.LeaseDuration, store, time, OnStoreFailed);
        }

        Options = value;
        signal.Listen(SlotFreed);
    }

    public ConcurrencyOptions Options { get; }

    public IEnumerable<TierState> All => _tiers.Values;

    public bool TryGet(string name, out TierState tier) => _tiers.TryGetValue(name, out tier!);

    /// <summary>A slot of <paramref name="key"/> came free outside this replica: its queue here, if any, asks the store again.</summary>
    private void SlotFreed(string key)
    {
        foreach (var (_, tier) in _tiers)
        {
            if (tier.TryGetGate(key) is { Queued: > 0 } gate)
            {
                _ = gate.PumpAsync();
                return;
            }
        }
    }

    private void OnStoreFailed(Exception exception, string tier) => Log.StoreFailed(_logger, tier, exception);

    private static partial class Log
    {
        [LoggerMessage(2104, LogLevel.Warning, "The concurrency store failed for tier {Tier}; its request runs without a slot (fail-open).", EventName = "ConcurrencyStoreFailed")]
        public static partial void StoreFailed(ILogger logger, string tier, Exception exception);
    }
}
