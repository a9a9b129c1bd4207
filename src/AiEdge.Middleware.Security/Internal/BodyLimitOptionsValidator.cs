using Microsoft.Extensions.Options;

namespace AiEdge.Middleware.Security.Internal;

/// <summary>Validates <see cref="BodyLimitOptions"/>.</summary>
internal sealed class BodyLimitOptionsValidator : IValidateOptions<BodyLimitOptions>
{
    public ValidateOptionsResult Validate(string? name, BodyLimitOptions options)
        => BodySizeParser.TryParse(options.Default, out _)
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail($"AiEdge:BodyLimits:Default {BodySizeParser.Shape} (got \"{options.Default}\").");
}
