using Microsoft.Extensions.Options;

namespace AiEdge.Middleware.AccessLog.Internal;

/// <summary>Validates <see cref="AccessLogOptions"/> at startup.</summary>
internal sealed class AccessLogOptionsValidator : IValidateOptions<AccessLogOptions>
{
    public ValidateOptionsResult Validate(string? name, AccessLogOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var paths = options.ExcludedPaths ?? [];
        for (var i = 0; i < paths.Count; i++)
        {
            if (string.IsNullOrEmpty(paths[i]) || paths[i][0] != '/')
            {
                return ValidateOptionsResult.Fail($"AiEdge:AccessLog:ExcludedPaths:{i} must be a request path starting with '/' (got \"{paths[i]}\").");
            }
        }

        return ValidateOptionsResult.Success;
    }
}
