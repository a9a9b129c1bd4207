using AiEdge.Middleware.Internal;
using AiEdge.Middleware.Caching;
using Microsoft.Extensions.Options;

namespace AiEdge.Middleware.Caching.Internal;

/// <summary>Validates <see cref="PredictionCacheOptions"/>, naming keys the way configuration spells them.</summary>
internal sealed class PredictionCacheOptionsValidator : IValidateOptions<PredictionCacheOptions>
{
    private const string Section = "AiEdge:Caching";

    public ValidateOptionsResult Validate(string? name, PredictionCacheOptions options)
    {
        var failures = new List<string>();
        if (options.Duration <= TimeSpan.Zero)
        {
            failures.Add($"{Section}:Duration must be a positive time span such as \"00:05:00\".");
        }

        if (options.StaleIfError < TimeSpan.Zero)
        {
            failures.Add($"{Section}:StaleIfError must not be negative.");
        }

        if (options.MaxRequestBodySize is <= 0 or > int.MaxValue / 2)
        {
            failures.Add($"{Section}:MaxRequestBodySize must be from 1 to {int.MaxValue / 2} bytes.");
        }

        if (options.MaxResponseBodySize is <= 0 or > int.MaxValue / 2)
        {
            failures.Add($"{Section}:MaxResponseBodySize must be from 1 to {int.MaxValue / 2} bytes.");
        }

        if (options.SizeLimit <= 0)
        {
            failures.Add($"{Section}:SizeLimit must be a positive number of bytes.");
        }

        if (options.CoalescingTimeout <= TimeSpan.Zero)
        {
            failures.Add($"{Section}:CoalescingTimeout must be a positive time span.");
        }

        if (string.IsNullOrWhiteSpace(options.StreamTerminalEvent))
        {
            failures.Add($"{Section}:StreamTerminalEvent must not be empty (e.g. \"data: [DONE]\").");
        }

        if (!Enum.IsDefined(options.Anonymous))
        {
            failures.Add($"{Section}:Anonymous must be Bypass, Shared or PerClientAddress.");
        }

        if (!Enum.IsDefined(options.InvalidJson))
        {
            failures.Add($"{Section}:InvalidJson must be HashRawBytes or Bypass.");
        }

        if (!Enum.IsDefined(options.DuplicateMembers))
        {
            failures.Add($"{Section}:DuplicateMembers must be Reject or Bypass.");
        }

        CheckHeaders(failures, $"{Section}:VaryByHeaders", options.VaryByHeaders);
        CheckNames(failures, $"{Section}:ExcludedJsonFields", options.ExcludedJsonFields);
        CheckNames(failures, $"{Section}:VaryByQuery", options.VaryByQuery);
        foreach (var (policyName, policy) in options.Policies)
        {
            var prefix = $"{Section}:Policies:{policyName}";
            if (policy is null)
            {
                continue;
            }

            if (policy.Duration is { } duration && duration <= TimeSpan.Zero)
            {
                failures.Add($"{prefix}:Duration must be a positive time span such as \"00:05:00\".");
            }

            if (policy.StaleIfError is { } stale && stale < TimeSpan.Zero)
            {
                failures.Add($"{prefix}:StaleIfError must not be negative.");
            }

            if (policy.Anonymous is { } anonymous && !Enum.IsDefined(anonymous))
            {
                failures.Add($"{prefix}:Anonymous must be Bypass, Shared or PerClientAddress.");
            }

            if (policy.InvalidJson is { } invalid && !Enum.IsDefined(invalid))
            {
                failures.Add($"{prefix}:InvalidJson must be HashRawBytes or Bypass.");
            }

            if (policy.DuplicateMembers is { } duplicates && !Enum.IsDefined(duplicates))
            {
                failures.Add($"{prefix}:DuplicateMembers must be Reject or Bypass.");
            }

            if (policy.VaryByHeaders is not null)
            {
                CheckHeaders(failures, $"{prefix}:VaryByHeaders", policy.VaryByHeaders);
            }

            if (policy.ExcludedJsonFields is not null)
            {
                CheckNames(failures, $"{prefix}:ExcludedJsonFields", policy.ExcludedJsonFields);
            }

            if (policy.VaryByQuery is not null)
            {
                CheckNames(failures, $"{prefix}:VaryByQuery", policy.VaryByQuery);
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void CheckHeaders(List<string> failures, string key, IList<string> headers)
    {
        for (var i = 0; i < headers.Count; i++)
        {
            if (!HeaderNames.IsToken(headers[i]))
            {
                failures.Add($"{key}:{i} must be a header name, not \"{headers[i]}\".");
            }
        }
    }

    private static void CheckNames(List<string> failures, string key, IList<string> names)
    {
        for (var i = 0; i < names.Count; i++)
        {
            if (string.IsNullOrEmpty(names[i]))
            {
                failures.Add($"{key}:{i} must not be empty.");
            }
        }
    }
}

/// <summary>Validates <see cref="IdempotencyOptions"/>, naming keys the way configuration spells them.</summary>
internal sealed class IdempotencyOptionsValidator : IValidateOptions<IdempotencyOptions>
{
    private const string Section = "AiEdge:Idempotency";

    public ValidateOptionsResult Validate(string? name, IdempotencyOptions options)
    {
        var failures = new List<string>();
        if (options.Retention <= TimeSpan.Zero)
        {
            failures.Add($"{Section}:Retention must be a positive time span such as \"1.00:00:00\".");
        }

        if (options.ProcessingTimeout <= TimeSpan.Zero)
        {
            failures.Add($"{Section}:ProcessingTimeout must be a positive time span.");
        }

        if (options.MaxKeyLength is < 1 or > 8192)
        {
            failures.Add($"{Section}:MaxKeyLength must be from 1 to 8192.");
        }

        if (options.MaxResponseBodySize is <= 0 or > int.MaxValue / 2)
        {
            failures.Add($"{Section}:MaxResponseBodySize must be from 1 to {int.MaxValue / 2} bytes.");
        }

        if (options.SizeLimit <= 0)
        {
            failures.Add($"{Section}:SizeLimit must be a positive number of bytes.");
        }

        if (!HeaderNames.IsToken(options.ReplayedHeaderName))
        {
            failures.Add($"{Section}:ReplayedHeaderName must be a header name.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

/// <summary>Header-name syntax (RFC 9110 token).</summary>
internal static class HeaderNames
{
    public static bool IsToken(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return false;
        }

        foreach (var c in value)
        {
            var ok = c is >= 'a' and <= 'z' or >= 'A' and <= 'Z' or >= '0' and <= '9'
                || c is '!' or '#' or '$' or '%' or '&' or '\'' or '*' or '+' or '-' or '.' or '^' or '_' or '`' or '|' or '~';
            if (!ok)
            {
                return false;
            }
        }

        return true;
    }
}
