using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace AiEdge.Middleware.Internal;

/// <summary>How every concern registers its options: bound from configuration, then code, validated at startup.</summary>
internal static class AiEdgeOptionsRegistration
{
    /// <summary>
    /// Binds <typeparamref name="TOptions"/> from <paramref name="section"/>, applies <paramref name="configure"/> after
    /// configuration, and validates the result with <typeparamref name="TValidator"/> when the application starts.
    /// Idempotent: the validator is registered once however often a concern's <c>Add*</c> is called.
    /// </summary>
    public static OptionsBuilder<TOptions> AddValidatedOptions<TOptions, TValidator>(this IAiEdgeBuilder edge, string section, Action<TOptions>? configure)
        where TOptions : class
        where TValidator : class, IValidateOptions<TOptions>
    {
        var options = edge.Services.AddOptions<TOptions>()
            .BindConfiguration(section)
            .ValidateOnStart();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        edge.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<TOptions>, TValidator>());
        return options;
    }
}
