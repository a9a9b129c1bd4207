using Microsoft.Extensions.Options;

namespace AiEdge.Middleware.Configuration.Internal;

/// <summary>
/// The configuration sections the registered AiEdge packages read, each with the options type that gives its shape.
/// Filled while services are registered, read once the host is built.
/// </summary>
internal sealed class ConfigurationSections
{
    private readonly List<Registration> _sections = [];

    public IReadOnlyList<Registration> All => _sections;

    public bool Contains(string path, Type optionsType)
    {
        foreach (var section in _sections)
        {
            if (section.OptionsType == optionsType && string.Equals(section.Path, path, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    public void Add(Registration registration) => _sections.Add(registration);

    /// <summary>Gets whether <paramref name="path"/> is a registered section.</summary>
    public bool IsSection(string path)
    {
        foreach (var section in _sections)
        {
            if (string.Equals(section.Path, path, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Gets whether <paramref name="path"/> is above a registered section (e.g. <c>AiEdge</c> is above <c>AiEdge:Cors</c>).</summary>
    public bool IsAboveSection(string path)
    {
        foreach (var section in _sections)
        {
            if (section.Path.Length > path.Length + 1
                && section.Path[path.Length] == ':'
                && section.Path.StartsWith(path, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The names of the keys right below <paramref name="path"/> that lead to a registered section.</summary>
    public void AddChildNames(string path, List<string> names)
    {
        foreach (var section in _sections)
        {
            if (section.Path.Length > path.Length + 1
                && section.Path[path.Length] == ':'
                && section.Path.StartsWith(path, StringComparison.OrdinalIgnoreCase))
            {
                var rest = section.Path[(path.Length + 1)..];
                var end = rest.IndexOf(':', StringComparison.Ordinal);
                var name = end < 0 ? rest : rest[..end];
                if (!names.Contains(name, StringComparer.OrdinalIgnoreCase))
                {
                    names.Add(name);
                }
            }
        }
    }

    /// <summary>One section: its path, its options type, and how to collect its failures at startup.</summary>
    /// <param name="Path">The section's full path, e.g. <c>AiEdge:RateLimiting</c>.</param>
    /// <param name="OptionsType">The options type bound from it.</param>
    /// <param name="Failures">Builds the options once and returns every failure (binding and validation).</param>
    internal sealed record Registration(string Path, Type OptionsType, Func<IServiceProvider, IEnumerable<string>> Failures);
}

/// <summary>The marker options whose start-up validation checks every registered section at once.</summary>
internal sealed class ConfigurationCheck;

/// <summary>
/// Builds the options of every registered section and reports every failure of all of them in one
/// <see cref="OptionsValidationException"/>: unknown keys, values that do not convert, and each package's own checks.
/// </summary>
internal sealed class ConfigurationCheckValidator(ConfigurationSections sections, IServiceProvider services) : IValidateOptions<ConfigurationCheck>
{
    public ValidateOptionsResult Validate(string? name, ConfigurationCheck options)
    {
        var failures = new List<string>();
        foreach (var section in sections.All)
        {
            foreach (var failure in section.Failures(services))
            {
                if (!failures.Contains(failure))
                {
                    failures.Add(failure);
                }
            }
        }

        if (failures.Count == 0)
        {
            return ValidateOptionsResult.Success;
        }

        // One exception for everything (the host would otherwise aggregate one per options type).
        throw new OptionsValidationException(Microsoft.Extensions.DependencyInjection.AiEdgeServiceCollectionExtensions.ConfigurationSection, typeof(AiEdgeOptions), failures);
    }
}
