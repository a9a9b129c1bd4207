using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace AiEdge.Middleware.Configuration.Internal;

/// <summary>
/// Binds <typeparamref name="TOptions"/> from its section the way <c>BindConfiguration</c> does, but only with the
/// values its shape accepts (durations in either syntax), so a bad value never makes the binder drop or skip anything
/// else; <see cref="ShapeValidator{TOptions}"/> reports what was left out.
/// </summary>
internal sealed class ShapeBinding<TOptions>(IConfiguration configuration, ConfigurationSections sections, string path) : IConfigureNamedOptions<TOptions>
    where TOptions : class
{
    public void Configure(TOptions options) => Configure(Options.DefaultName, options);

    public void Configure(string? name, TOptions options)
    {
        if (name != Options.DefaultName)
        {
            return;
        }

        var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        ConfigurationShape.Walk(configuration.GetSection(path), typeof(TOptions), sections, [], values);
        if (values.Count > 0)
        {
            new ConfigurationBuilder().AddInMemoryCollection(values).Build().GetSection(path).Bind(options);
        }
    }
}

/// <summary>Reports the unknown keys and unconvertible values of <typeparamref name="TOptions"/>'s section.</summary>
internal sealed class ShapeValidator<TOptions>(IConfiguration configuration, ConfigurationSections sections, string path) : IValidateOptions<TOptions>
    where TOptions : class
{
    public ValidateOptionsResult Validate(string? name, TOptions options)
    {
        if (name != Options.DefaultName)
        {
            return ValidateOptionsResult.Skip;
        }

        var failures = new List<string>();
        ConfigurationShape.Walk(configuration.GetSection(path), typeof(TOptions), sections, failures, new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase));
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
