using Microsoft.Extensions.Options;

namespace AiEdge.Middleware.Health.Internal;

/// <summary>Checks <c>AiEdge:Health</c> at startup, naming each bad key.</summary>
internal sealed class EdgeHealthOptionsValidator : IValidateOptions<EdgeHealthOptions>
{
    public ValidateOptionsResult Validate(string? name, EdgeHealthOptions options)
    {
        var errors = new List<string>();
        CheckPath(errors, "LivenessPath", options.LivenessPath);
        CheckPath(errors, "ReadinessPath", options.ReadinessPath);
        if (string.Equals(options.LivenessPath, options.ReadinessPath, StringComparison.OrdinalIgnoreCase))
        {
            errors.Add("AiEdge:Health:ReadinessPath must differ from AiEdge:Health:LivenessPath.");
        }

        CheckStatus(errors, "HealthyStatusCode", options.HealthyStatusCode);
        CheckStatus(errors, "DegradedStatusCode", options.DegradedStatusCode);
        CheckStatus(errors, "UnhealthyStatusCode", options.UnhealthyStatusCode);
        if (options.CacheDuration < TimeSpan.Zero || options.CacheDuration > TimeSpan.FromMinutes(1))
        {
            errors.Add("AiEdge:Health:CacheDuration must be from 00:00:00 to 00:01:00.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static void CheckPath(List<string> errors, string key, string? path)
    {
        if (string.IsNullOrEmpty(path) || path[0] != '/' || path.AsSpan().IndexOfAny("?#{}*") >= 0)
        {
            errors.Add("AiEdge:Health:" + key + " must be a literal path starting with '/' (no query, no route parameter), e.g. \"/healthz\".");
        }
    }

    private static void CheckStatus(List<string> errors, string key, int status)
    {
        if (status is < 200 or > 599)
        {
            errors.Add("AiEdge:Health:" + key + " must be an HTTP status code from 200 to 599.");
        }
    }
}
