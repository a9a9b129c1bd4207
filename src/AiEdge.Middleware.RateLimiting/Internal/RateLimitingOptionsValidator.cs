using Microsoft.Extensions.Options;

namespace AiEdge.Middleware.RateLimiting.Internal;

/// <summary>Checks every tier and plan at startup, naming failing keys the way configuration spells them.</summary>
internal sealed class RateLimitingOptionsValidator : IValidateOptions<RateLimitingOptions>
{
    private const string Prefix = "AiEdge:RateLimiting:";

    public ValidateOptionsResult Validate(string? name, RateLimitingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if (options.RejectionStatusCode is < 400 or > 599)
        {
            failures.Add(Prefix + "RejectionStatusCode must be a 4xx or 5xx status code.");
        }

        if (options.MaxPartitions < 1)
        {
            failures.Add(Prefix + "MaxPartitions must be at least 1.");
        }

        if (options.IPv6PrefixLength is < 0 or > 128)
        {
            failures.Add(Prefix + "IPv6PrefixLength must be from 0 to 128.");
        }

        if (options.ExpirationScanInterval < TimeSpan.Zero)
        {
            failures.Add(Prefix + "ExpirationScanInterval must not be negative.");
        }

        foreach (var (tierName, tier) in options.Tiers)
        {
            var key = Prefix + "Tiers:" + tierName + ":";
            if (tier is null)
            {
                failures.Add(Prefix + "Tiers:" + tierName + " must be an object with a Rate.");
                continue;
            }

            if (!IsPolicyName(tierName))
            {
                failures.Add(Prefix + "Tiers:" + tierName + " must be named with printable ASCII characters other than '\"' and '\\' (it is sent as a RateLimit policy name).");
            }

            if (tier.Rate is null && tier.TokenBudget is null)
            {
                failures.Add(key + "Rate is required (or a TokenBudget), e.g. \"10r/s\".");
            }

            ValidateLimit(failures, key, tier.Rate, tier.Burst, tier.Delay, tier.NoDelay);
            if (tier.Partition == RateLimitPartitionKind.Claim && string.IsNullOrWhiteSpace(tier.PartitionClaim))
            {
                failures.Add(key + "PartitionClaim is required when Partition is Claim.");
            }

            if (tier.Partition == RateLimitPartitionKind.Custom && tier.PartitionResolver is null)
            {
                failures.Add(key + "Partition is Custom but no PartitionResolver function is set in code.");
            }

            if (!Enum.IsDefined(tier.Partition))
            {
                failures.Add(key + "Partition must be one of ClientIp, Caller, ApiKey, Claim, Custom.");
            }

            if (tier.TokenBudget is { } budget)
            {
                var budgetKey = key + "TokenBudget:";
                if (budget.Tokens is <= 0 or > RateParser.MaxCount)
                {
                    failures.Add(budgetKey + "Tokens must be from 1 to " + RateParser.MaxCount + ".");
                }

                if (!RateParser.TryParseWindow(budget.Window, out _))
                {
                    failures.Add(budgetKey + "Window must be whole seconds written as a duration, e.g. \"1m\", \"30s\" or \"00:01:00\", not \"" + budget.Window + "\".");
                }

                if (budget.DefaultMaxTokens < 0)
                {
                    failures.Add(budgetKey + "DefaultMaxTokens must not be negative.");
                }

                if (budget.CharsPerToken < 1)
                {
                    failures.Add(budgetKey + "CharsPerToken must be at least 1.");
                }

                if (budget.MaxInspectedBodyBytes < 0)
                {
                    failures.Add(budgetKey + "MaxInspectedBodyBytes must not be negative.");
                }
            }

            foreach (var (planName, plan) in tier.Plans)
            {
                var planKey = key + "Plans:" + planName + ":";
                if (plan is null)
                {
                    continue;
                }

                if (plan.Rate is not null && tier.Rate is null)
                {
                    failures.Add(planKey + "Rate needs the tier to have a Rate.");
                }

                ValidateLimit(failures, planKey, plan.Rate ?? tier.Rate, plan.Burst ?? tier.Burst, plan.Delay ?? tier.Delay, plan.NoDelay ?? tier.NoDelay, checkRate: plan.Rate is not null);
                if (plan.Tokens is not null && tier.TokenBudget is null)
                {
                    failures.Add(planKey + "Tokens needs the tier to have a TokenBudget.");
                }

                if (plan.Tokens is <= 0 or > RateParser.MaxCount)
                {
                    failures.Add(planKey + "Tokens must be from 1 to " + RateParser.MaxCount + ".");
                }

                if (plan.TokenWindow is not null && !RateParser.TryParseWindow(plan.TokenWindow, out _))
                {
                    failures.Add(planKey + "TokenWindow must be whole seconds written as a duration, e.g. \"1m\", \"30s\" or \"00:01:00\", not \"" + plan.TokenWindow + "\".");
                }
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static bool IsPolicyName(string name)
    {
        foreach (var c in name)
        {
            if (c is < ' ' or > '~' or '"' or '\\')
            {
                return false;
            }
        }

        return name.Length > 0;
    }

    private static void ValidateLimit(List<string> failures, string key, string? rate, int burst, int? delay, bool? noDelay, bool checkRate = true)
    {
        if (rate is not null && checkRate && !RateParser.TryParseRate(rate, out _, out _))
        {
            failures.Add(key + "Rate must look like \"10r/s\" (Nr/s, Nr/m, Nr/h or Nr/d), not \"" + rate + "\".");
        }

        if (burst < 0 || burst > 1_000_000)
        {
            failures.Add(key + "Burst must be from 0 to 1000000.");
        }

        if (delay is { } d)
        {
            if (d < 0 || d > 1_000_000)
            {
                failures.Add(key + "Delay must be from 0 to 1000000.");
            }

            if (noDelay == true)
            {
                failures.Add(key + "Delay and NoDelay: true cannot be combined (Delay selects delay mode).");
            }
        }
    }
}
