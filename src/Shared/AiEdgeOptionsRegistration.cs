using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace AiEdge.Middleware.Internal;

/// <summary>How every concern registers its options: bound from configuration, then code, validated at startup.</summary>
internal static class AiEdgeOptionsRegistration
{
    /// <summary>
    /// Declares <paramref name="section"/> as <typeparamref name="TOptions"/>'s (<c>AddConfigurationSection</c>: shape
    /// checks, both duration syntaxes, reload, one startup report), applies <paramref name="configure"/> after
    /// configuration, and validates the result with <typeparamref name="TValidator"/>. Idempotent: the binding and the
    /// validator are registered once however often a concern's <c>Add*</c> is called.
    /// </summary>
    public static OptionsBuilder<TOptions> AddValidatedOptions<TOptions, TValidator>(this IAiEdgeBuilder edge, string section, Action<TOptions>? configure)
        where TOptions : class
        where TValidator : class, IValidateOptions<TOptions>
    {
        edge.AddConfigurationSection<TOptions>(section);
        var options = edge.Services.AddOptions<TOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        edge.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<TOptions>, TValidator>());
        return options;
    }
}
