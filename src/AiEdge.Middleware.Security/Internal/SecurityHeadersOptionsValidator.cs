using Microsoft.Extensions.Options;

namespace AiEdge.Middleware.Security.Internal;

/// <summary>Validates <see cref="SecurityHeadersOptions"/>, naming keys the way configuration spells them.</summary>
internal sealed class SecurityHeadersOptionsValidator : IValidateOptions<SecurityHeadersOptions>
{
    private const string Section = "AiEdge:SecurityHeaders";

    public ValidateOptionsResult Validate(string? name, SecurityHeadersOptions options)
    {
        var failures = new List<string>();
        CheckValue(failures, nameof(options.ContentTypeOptions), options.ContentTypeOptions);
        CheckValue(failures, nameof(options.FrameOptions), options.FrameOptions);
        CheckValue(failures, nameof(options.ReferrerPolicy), options.ReferrerPolicy);
        CheckValue(failures, nameof(options.ContentSecurityPolicy), options.ContentSecurityPolicy);
        CheckValue(failures, nameof(options.CrossOriginOpenerPolicy), options.CrossOriginOpenerPolicy);
        CheckValue(failures, nameof(options.CrossOriginResourcePolicy), options.CrossOriginResourcePolicy);
        CheckValue(failures, nameof(options.PermissionsPolicy), options.PermissionsPolicy);
        CheckValue(failures, nameof(options.StrictTransportSecurity), options.StrictTransportSecurity);
        if (!string.IsNullOrEmpty(options.StrictTransportSecurity) && !options.StrictTransportSecurity.StartsWith("max-age=", StringComparison.OrdinalIgnoreCase))
        {
            failures.Add($"{Section}:StrictTransportSecurity must start with \"max-age=\" (e.g. \"max-age=31536000; includeSubDomains\").");
        }

        foreach (var (header, value) in options.CustomHeaders)
        {
            if (!HeaderValues.IsValidName(header))
            {
                failures.Add($"{Section}:CustomHeaders:{header} is not a valid header name.");
            }

            CheckValue(failures, "CustomHeaders:" + header, value);
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void CheckValue(List<string> failures, string key, string? value)
    {
        if (!string.IsNullOrEmpty(value) && !HeaderValues.IsValidValue(value))
        {
            failures.Add($"{Section}:{key} must be visible ASCII without control characters (CR and LF included).");
        }
    }
}
