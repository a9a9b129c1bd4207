using Microsoft.Extensions.Options;

namespace AiEdge.Middleware.Concurrency.Internal;

/// <summary>Checks every tier at startup, naming failing keys the way configuration spells them.</summary>
internal sealed class ConcurrencyOptionsValidator : IValidateOptions<ConcurrencyOptions>
{
    private const string Prefix = "AiEdge:Concurrency:";

    public ValidateOptionsResult Validate(string? name, ConcurrencyOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if (options.StarvationLimit < 1)
        {
            failures.Add(Prefix + "StarvationLimit must be at least 1.");
        }

        if (options.LeaseDuration < TimeSpan.FromSeconds(1))
        {
            failures.Add(Prefix + "LeaseDuration must be at least 1 second (00:00:01).");
        }

        for (var i = 0; i < options.PlanPriority.Count; i++)
        {
            if (string.IsNullOrWhiteSpace(options.PlanPriority[i]))
            {
                failures.Add(Prefix + "PlanPriority:" + i + " must name a plan.");
            }
        }

        foreach (var (tierName, tier) in options.Tiers)
        {
            var key = Prefix + "Tiers:" + tierName + ":";
            if (tier is null)
            {
                failures.Add(Prefix + "Tiers:" + tierName + " must be an object with a Limit.");
                continue;
            }

            if (tier.Limit < 1)
            {
                failures.Add(key + "Limit is required and must be at least 1.");
            }

            if (tier.QueueLimit < 0)
            {
                failures.Add(key + "QueueLimit must not be negative.");
            }

            if (tier.QueueTimeout < TimeSpan.Zero)
            {
                failures.Add(key + "QueueTimeout must not be negative.");
            }

            if (!Enum.IsDefined(tier.Partition))
            {
                failures.Add(key + "Partition must be one of None, ClientIp, Caller, ApiKey, Plan.");
            }

            var adaptive = tier.Adaptive;
            if (adaptive.Enabled)
            {
                var adaptiveKey = key + "Adaptive:";
                if (tier.Partition != ConcurrencyPartitionKind.None)
                {
                    failures.Add(adaptiveKey + "Enabled needs Partition None: an adaptive limit protects the backend, not a caller's share.");
                }

                if (adaptive.MinLimit < 1)
                {
                    failures.Add(adaptiveKey + "MinLimit must be at least 1.");
                }

                if (adaptive.MaxLimit < adaptive.MinLimit)
                {
                    failures.Add(adaptiveKey + "MaxLimit must be at least MinLimit.");
                }

                if (!(adaptive.Tolerance > 1))
                {
                    failures.Add(adaptiveKey + "Tolerance must be greater than 1.");
                }

                if (!(adaptive.BackoffRatio is > 0 and < 1))
                {
                    failures.Add(adaptiveKey + "BackoffRatio must be between 0 and 1 (exclusive).");
                }
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
