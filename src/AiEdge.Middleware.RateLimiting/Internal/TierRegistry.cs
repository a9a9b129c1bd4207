using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace AiEdge.Middleware.RateLimiting.Internal;

/// <summary>The configured tiers, turned once at startup into rules, partition selectors and header values.</summary>
internal sealed class TierRegistry
{
    private readonly Dictionary<string, ResolvedTier> _tiers;

    public TierRegistry(IOptions<RateLimitingOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var value = options.Value;
        Options = value;
        _tiers = new Dictionary<string, ResolvedTier>(StringComparer.OrdinalIgnoreCase);

        // A stable global order (by name) gives every bucket family its lock order.
        var names = new List<string>(value.Tiers.Keys);
        names.Sort(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < names.Count; i++)
        {
            _tiers[names[i]] = new ResolvedTier(names[i], i, value.Tiers[names[i]], value.IPv6PrefixLength);
        }
    }

    public RateLimitingOptions Options { get; }

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
        _cacheWidth = primary.Quota + 1;
        var maxReset = primary.WindowSeconds + 2;
        if (requests is not null && tokens is null && _cacheWidth * (maxReset + 1) <= 4096)
        {
            _cache = new string?[_cacheWidth * (maxReset + 1)];
        }
    }

    private readonly string _prefix;
    private readonly long _cacheWidth;
    private readonly string?[]? _cache;

    public RateLimitRule? Requests { get; }

    public RateLimitRule? Tokens { get; }

    /// <summary>The <c>RateLimit-Policy</c> item, e.g. <c>"predict";q=21;w=3</c>.</summary>
    public string PolicyValue { get; }

    /// <summary>The <c>RateLimit</c> item for <paramref name="remaining"/> units and a reset in <paramref name="resetSeconds"/>.</summary>
    public string FormatRateLimit(long remaining, long resetSeconds, long tokensRemaining)
    {
        if (_cache is not null && remaining < _cacheWidth && remaining >= 0 && resetSeconds >= 0)
        {
            var index = resetSeconds * _cacheWidth + remaining;
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

    public ResolvedTier(string name, int ordinal, RateLimitTier tier, int ipv6PrefixLength)
    {
        Name = name;
        Ordinal = ordinal;
        DryRun = tier.DryRun;
        Partition = tier.PartitionResolver is not null ? RateLimitPartitionKind.Custom : tier.Partition;
        PartitionClaim = tier.PartitionClaim;
        PartitionResolver = tier.PartitionResolver;
        Budget = tier.TokenBudget;
        IPv6PrefixLength = ipv6PrefixLength;
        Default = BuildRules(name, null, ordinal, tier.Rate, tier.Burst, tier.Delay, tier.NoDelay, tier.TokenBudget?.Tokens, tier.TokenBudget?.Window);
        _plans = new Dictionary<string, RuleSet>(StringComparer.OrdinalIgnoreCase);
        foreach (var (planName, plan) in tier.Plans)
        {
            if (plan is null)
            {
                continue;
            }

            _plans[planName] = BuildRules(
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

    private static RuleSet BuildRules(string tier, string? plan, int ordinal, string? rate, int burst, int? delay, bool? noDelay, long? tokens, string? window)
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
            requests = new RateLimitRule(tier, plan, RateLimitUnit.Requests, numerator, denominator, burst * LeakyBucket.OneRequest, delayMilli, ordinal * 2, quota, windowSeconds);
        }

        RateLimitRule? tokenRule = null;
        if (tokens is > 0 && RateParser.TryParseWindow(window, out var seconds))
        {
            tokenRule = new RateLimitRule(tier, plan, RateLimitUnit.Tokens, tokens.Value * 1000, seconds * 1000, tokens.Value * 1000, long.MaxValue, ordinal * 2 + 1, tokens.Value, seconds);
        }

        return new RuleSet(tier, requests, tokenRule);
    }
}
