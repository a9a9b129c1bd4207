using System.Globalization;
using Microsoft.Extensions.Options;

namespace AiEdge.Middleware.ReverseProxy.Internal;

/// <summary>Validates <see cref="AiEdgeReverseProxyOptions"/>, naming keys as configuration spells them.</summary>
internal sealed class AiEdgeReverseProxyOptionsValidator : IValidateOptions<AiEdgeReverseProxyOptions>
{
    private const string Section = "AiEdge:ReverseProxy";

    public ValidateOptionsResult Validate(string? name, AiEdgeReverseProxyOptions options)
    {
        var errors = new List<string>();
        foreach (var (cluster, breaker) in options.Breakers)
        {
            var key = Section + ":Breakers:" + cluster;
            if (breaker.FailureRatio is <= 0 or > 1)
            {
                errors.Add(key + ":FailureRatio must be above 0 and at most 1 (was " + breaker.FailureRatio.ToString(CultureInfo.InvariantCulture) + ").");
            }

            if (breaker.MinimumThroughput < 2)
            {
                errors.Add(key + ":MinimumThroughput must be at least 2.");
            }

            if (breaker.SamplingDuration < TimeSpan.FromMilliseconds(500))
            {
                errors.Add(key + ":SamplingDuration must be at least 00:00:00.5.");
            }

            if (breaker.BreakDuration < TimeSpan.FromMilliseconds(500))
            {
                errors.Add(key + ":BreakDuration must be at least 00:00:00.5.");
            }
        }

        if (options.MaxRetryAttempts is < 0 or > 5)
        {
            errors.Add(Section + ":MaxRetryAttempts must be from 0 to 5 (was " + options.MaxRetryAttempts.ToString(CultureInfo.InvariantCulture) + ").");
        }

        if (options.CooldownRefreshInterval < TimeSpan.Zero || options.CooldownRefreshInterval > TimeSpan.FromMinutes(1))
        {
            errors.Add(Section + ":CooldownRefreshInterval must be from 00:00:00 to 00:01:00.");
        }

        for (var i = 0; i < options.InternalHeaderPrefixes.Count; i++)
        {
            if (string.IsNullOrWhiteSpace(options.InternalHeaderPrefixes[i]))
            {
                errors.Add(Section + ":InternalHeaderPrefixes:" + i.ToString(CultureInfo.InvariantCulture) + " must not be empty.");
            }
        }

        var streams = options.Streams;
        Timeout(errors, Section + ":Streams:FirstByteTimeout", streams.FirstByteTimeout);
        Timeout(errors, Section + ":Streams:IdleTimeout", streams.IdleTimeout);
        Timeout(errors, Section + ":Streams:TotalTimeout", streams.TotalTimeout);
        if (streams.TotalTimeout > TimeSpan.Zero && streams.FirstByteTimeout > streams.TotalTimeout)
        {
            errors.Add(Section + ":Streams:FirstByteTimeout must not exceed " + Section + ":Streams:TotalTimeout.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    /// <summary>A timeout is zero (off) or from 1 ms to 1 day.</summary>
    internal static bool IsValidTimeout(TimeSpan value) => value == TimeSpan.Zero || (value >= TimeSpan.FromMilliseconds(1) && value <= TimeSpan.FromDays(1));

    private static void Timeout(List<string> errors, string key, TimeSpan value)
    {
        if (!IsValidTimeout(value))
        {
            errors.Add(key + " must be 0 (off) or from 1 ms to 1 day (was " + value.ToString("c", CultureInfo.InvariantCulture) + ").");
        }
    }
}
