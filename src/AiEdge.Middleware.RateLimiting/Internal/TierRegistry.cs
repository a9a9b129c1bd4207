using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AiEdge.Middleware.RateLimiting.Internal;

/// <summary>
/// The configured tiers as an immutable <see cref="TierSnapshot"/>, rebuilt when the options reload and swapped in
/// whole: a request reads <see cref="Current"/> once. A rebuild reuses the rule objects of rules that did not change
/// (the stores key buckets by rule), so their buckets keep their state; a tier keeps its lock-order ordinal for the
/// registry's lifetime, so old and new rules never disagree on lock order.
/// </summary>
internal sealed partial class TierRegistry : IDisposable
{
    private readonly Dictionary<string, int> _ordinals = new(StringComparer.OrdinalIgnoreCase);
    private readonly Lock _rebuild = new();
    private readonly IServiceProvider? _services;
    private readonly ILogger? _logger;
    private readonly IDisposable? _subscription;
    private volatile TierSnapshot _current;

    /// <summary>A registry over fixed options (no reload).</summary>
    public TierRegistry(IOptions<RateLimitingOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _current = Build(options.Value, null);
    }

    /// <summary>A registry that follows <paramref name="options"/>' reloads.</summary>
    public TierRegistry(IOptionsMonitor<RateLimitingOptions> options, IServiceProvider services, ILogger<TierRegistry> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _services = services;
        _logger = logger;
        _current = Build(options.CurrentValue, null);
        _subscription = options.OnChange(Reload);
    }

    /// <summary>Gets the tiers in effect.</summary>
    public TierSnapshot Current => _current;

    public RateLimitingOptions Options => _current.Options;

    public bool TryGet(string name, out ResolvedTier tier) => _current.TryGet(name, out tier);

    public IEnumerable<ResolvedTier> All => _current.All;

    public void Dispose() => _subscription?.Dispose();

    private void Reload(RateLimitingOptions options, string? name)
    {
        if (name is not null && name != Microsoft.Extensions.Options.Options.DefaultName)
        {
            return;
        }

        lock (_rebuild)
        {
            var next = Build(options, _current);
            if (MissingTier(next) is { } missing)
            {
                Log.ReloadRejected(_logger!, missing.Tier, missing.Endpoint);
                return;
            }

            _current = next;
            Log.Reloaded(_logger!, next.Count);
        }
    }

    /// <summary>An endpoint's tier that <paramref name="snapshot"/> no longer has, if any.</summary>
    private (string Tier, string Endpoint)? MissingTier(TierSnapshot snapshot)
    {
        foreach (var source in _services?.GetServices<EndpointDataSource>() ?? [])
        {
            foreach (var endpoint in source.Endpoints)
            {
                foreach (var metadata in endpoint.Metadata.GetOrderedMetadata<IRateLimitTierMetadata>())
                {
                    if (!snapshot.TryGet(metadata.TierName, out _))
                    {
                        return (metadata.TierName, endpoint.DisplayName ?? "(unnamed)");
                    }
                }
            }
        }

        return null;
    }

    private TierSnapshot Build(RateLimitingOptions options, TierSnapshot? previous)
    {
        // A stable global order gives every bucket family its lock order: names sorted at first, later ones after.
        var names = new List<string>(options.Tiers.Keys);
        names.Sort(StringComparer.OrdinalIgnoreCase);
        foreach (var name in names)
        {
            _ordinals.TryAdd(name, _ordinals.Count);
        }

        var reuse = previous?.Rules;
        var tiers = new Dictionary<string, ResolvedTier>(StringComparer.OrdinalIgnoreCase);
        foreach (var name in names)
        {
            tiers[name] = new ResolvedTier(name, _ordinals[name], options.Tiers[name], options.IPv6PrefixLength, reuse);
        }

        return new TierSnapshot(options, tiers);
    }

    private static partial class Log
    {
        [LoggerMessage(1107, LogLevel.Information, "Rate-limit tiers reloaded: {Count} tier(s); buckets of unchanged rules keep their state.", EventName = "TiersReloaded")]
        public static partial void Reloaded(ILogger logger, int count);

        [LoggerMessage(1108, LogLevel.Error, "The reloaded rate-limit tiers were not applied: the endpoint '{Endpoint}' uses the tier '{Tier}', which the new configuration no longer has. The previous tiers stay in effect.", EventName = "TiersReloadRejected")]
        public static partial void ReloadRejected(ILogger logger, string tier, string endpoint);
    }
}

/// <summary>The tiers of one configuration, resolved; never changed once built.</summary>
internal sealed class TierSnapshot
{
    private readonly Dictionary<string, ResolvedTier> _tiers;

    public TierSnapshot(RateLimitingOptions options, Dictionary<string, ResolvedTier> tiers)
    {
        Options = options;
        _tiers = tiers;
        RejectionStatusCode = options.RejectionStatusCode;
        EmitHeaders = options.EmitHeaders;
        Rules = new Dictionary<string, RateLimitRule>(StringComparer.Ordinal);
        foreach (var tier in tiers.Values)
        {
            tier.CollectRules(Rules);
        }
    }

    public RateLimitingOptions Options { get; }

    public int RejectionStatusCode { get; }

    public bool EmitHeaders { get; }

    public int Count => _tiers.Count;

    /// <summary>Every rule of every tier and plan, by store key.</summary>
    public Dictionary<string, RateLimitRule> Rules { get; }

    /// <summary>The limits of each endpoint under this snapshot, resolved on first use.</summary>
    public ConcurrentDictionary<Endpoint, EndpointLimits> Endpoints { get; } = new();

    public bool TryGet(string name, out ResolvedTier tier) => _tiers.TryGetValue(name, out tier!);

    public IEnumerable<ResolvedTier> All => _tiers.Values;
}

/// <summary>A tier (or one of its plans) as rules and precomputed header values.</summary>
internal sealed class RuleSet
{
    public RuleSet(string tierName, RateLimitRule? requests, RateLimitRule? tokens)
    {
        Requests = requests;
        Tokens = tokens;
        PolicyValue = BuildPolicy(tierName, requests, tokens);
        var primary = requests ?? tokens!;
        _prefix = "\"" + tierName + "\";r=";
        if (requests is not null && tokens is null)
        {
            // Every value when they all fit in the table; otherwise the band just below a full bucket, where a
            // bucket stays while its callers are not near their limit (a large quota's values are formatted per
            // request only further down).
            var resets = primary.WindowSeconds + 3;
            var band = Math.Min(primary.Quota + 1, MaxCachedValues / resets);
            if (band > 0)
            {
                _cacheLow = primary.Quota + 1 - band;
                _cacheWidth = band;
                _cache = new string?[band * resets];
            }
        }
    }

    private const long MaxCachedValues = 4096;

    private readonly string _prefix;
    private readonly long _cacheLow;
    private readonly long _cacheWidth;
    private readonly string?[]? _cache;

    public RateLimitRule? Requests { get; }

    public RateLimitRule? Tokens { get; }

    /// <summary>The <c>RateLimit-Policy</c> item, e.g. <c>"predict";q=21;w=3</c>.</summary>
    public string PolicyValue { get; }

    /// <summary>The <c>RateLimit</c> item for <paramref name="remaining"/> units and a reset in <paramref name="resetSeconds"/>.</summary>
    public string FormatRateLimit(long remaining, long resetSeconds, long tokensRemaining)
    {
        var offset = remaining - _cacheLow;
        if (_cache is not null && offset >= 0 && offset < _cacheWidth && resetSeconds >= 0)
        {
            var index = resetSeconds * _cacheWidth + offset;
            if (index < _cache.Length)
            {
                return _cache[index] ??= Format(remaining, resetSeconds, -1);
            }
        }

        return Format(remaining, resetSeconds, Tokens is null ? -1 : tokensRemaining);
    }

    private string Format(long remaining, long resetSeconds, long tokensRemaining)
        => tokensRemaining < 0
            ? string.Create(CultureInfo.InvariantCulture, $"{_prefix}{remaining};t={resetSeconds}")
            : string.Create(CultureInfo.InvariantCulture, $"{_prefix}{remaining};t={resetSeconds};aiedge-tokens={tokensRemaining}");

    private static string BuildPolicy(string tierName, RateLimitRule? requests, RateLimitRule? tokens)
    {
        if (requests is null)
        {
            return string.Create(CultureInfo.InvariantCulture, $"\"{tierName}\";q={tokens!.Quota};qu=\"tokens\";w={tokens.WindowSeconds}");
        }

        return tokens is null
            ? string.Create(CultureInfo.InvariantCulture, $"\"{tierName}\";q={requests.Quota};w={requests.WindowSeconds}")
            : string.Create(CultureInfo.InvariantCulture, $"\"{tierName}\";q={requests.Quota};w={requests.WindowSeconds};aiedge-token-quota={tokens.Quota};aiedge-token-window={tokens.WindowSeconds}");
    }
}

/// <summary>A configured tier, resolved.</summary>
internal sealed class ResolvedTier
{
    private readonly Dictionary<string, RuleSet> _plans;

    public ResolvedTier(string name, int ordinal, RateLimitTier tier, int ipv6PrefixLength, Dictionary<string, RateLimitRule>? reuse = null)
    {
        Name = name;
        Ordinal = ordinal;
        DryRun = tier.DryRun;
        Partition = tier.PartitionResolver is not null ? RateLimitPartitionKind.Custom : tier.Partition;
        PartitionClaim = tier.PartitionClaim;
        PartitionResolver = tier.PartitionResolver;
        Budget = tier.TokenBudget;
        IPv6PrefixLength = ipv6PrefixLength;
        Default = BuildRules(reuse, name, null, ordinal, tier.Rate, tier.Burst, tier.Delay, tier.NoDelay, tier.TokenBudget?.Tokens, tier.TokenBudget?.Window);
        _plans = new Dictionary<string, RuleSet>(StringComparer.OrdinalIgnoreCase);
        foreach (var (planName, plan) in tier.Plans)
        {
            if (plan is null)
            {
                continue;
            }

            _plans[planName] = BuildRules(
                reuse,
                name,
                planName,
                ordinal,
                plan.Rate ?? tier.Rate,
                plan.Burst ?? tier.Burst,
                plan.Delay ?? tier.Delay,
                plan.NoDelay ?? tier.NoDelay,
                plan.Tokens ?? tier.TokenBudget?.Tokens,
                plan.TokenWindow ?? tier.TokenBudget?.Window);
        }
    }

    public string Name { get; }

    public int Ordinal { get; }

    public bool DryRun { get; }

    public RateLimitPartitionKind Partition { get; }

    public string? PartitionClaim { get; }

    public Func<HttpContext, string?>? PartitionResolver { get; }

    public RateLimitTokenBudget? Budget { get; }

    public int IPv6PrefixLength { get; }

    public RuleSet Default { get; }

    public bool HasPlans => _plans.Count > 0;

    public RuleSet ForPlan(string? plan) => plan is not null && _plans.TryGetValue(plan, out var rules) ? rules : Default;

    /// <summary>Adds the rules of the tier and its plans to <paramref name="rules"/>, by store key.</summary>
    public void CollectRules(Dictionary<string, RateLimitRule> rules)
    {
        Add(rules, Default);
        foreach (var plan in _plans.Values)
        {
            Add(rules, plan);
        }

        static void Add(Dictionary<string, RateLimitRule> rules, RuleSet set)
        {
            if (set.Requests is { } requests)
            {
                rules[requests.StoreKey] = requests;
            }

            if (set.Tokens is { } tokens)
            {
                rules[tokens.StoreKey] = tokens;
            }
        }
    }

    /// <summary><paramref name="rule"/>, or the equal rule of the previous configuration, whose buckets then carry on.</summary>
    private static RateLimitRule Reuse(Dictionary<string, RateLimitRule>? reuse, RateLimitRule rule)
        => reuse is not null && reuse.TryGetValue(rule.StoreKey, out var old)
            && old.Unit == rule.Unit
            && old.RateNumerator == rule.RateNumerator
            && old.RateDenominator == rule.RateDenominator
            && old.CapacityMilli == rule.CapacityMilli
            && old.DelayMilli == rule.DelayMilli
            && old.LockOrder == rule.LockOrder
            && old.Quota == rule.Quota
            && old.WindowSeconds == rule.WindowSeconds
            && string.Equals(old.TierName, rule.TierName, StringComparison.Ordinal)
            && string.Equals(old.PlanName, rule.PlanName, StringComparison.Ordinal)
                ? old
                : rule;

    private static RuleSet BuildRules(Dictionary<string, RateLimitRule>? reuse, string tier, string? plan, int ordinal, string? rate, int burst, int? delay, bool? noDelay, long? tokens, string? window)
    {
        RateLimitRule? requests = null;
        if (RateParser.TryParseRate(rate, out var count, out var period))
        {
            // NGINX: rate = N * 1000 / scale (r/s, r/m), drained per ms as rate * ms / 1000.
            long numerator, denominator;
            if (period <= 60)
            {
                numerator = count * 1000 / period;
                denominator = 1000;
            }
            else
            {
                numerator = count * 1000;
                denominator = period * 1000;
            }

            long delayMilli = delay is { } d ? d * LeakyBucket.OneRequest : noDelay == false ? 0 : long.MaxValue;
            var quota = burst + 1L;
            var windowSeconds = Math.Max((quota * period + count - 1) / count, 1);
            requests = Reuse(reuse, new RateLimitRule(tier, plan, RateLimitUnit.Requests, numerator, denominator, burst * LeakyBucket.OneRequest, delayMilli, ordinal * 2, quota, windowSeconds));
        }

        RateLimitRule? tokenRule = null;
        if (tokens is > 0 && RateParser.TryParseWindow(window, out var seconds))
        {
            tokenRule = Reuse(reuse, new RateLimitRule(tier, plan, RateLimitUnit.Tokens, tokens.Value * 1000, seconds * 1000, tokens.Value * 1000, long.MaxValue, ordinal * 2 + 1, tokens.Value, seconds));
        }

        return new RuleSet(tier, requests, tokenRule);
    }
}
