using AiEdge.Middleware;
using AiEdge.Middleware.Configuration.Internal;
using AiEdge.Middleware.Internal;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>How an AiEdge package declares the configuration section it reads (see docs/configuration.md).</summary>
public static class AiEdgeBuilderConfigurationExtensions
{
    /// <summary>
    /// Declares that <typeparamref name="TOptions"/> is bound from the configuration section <paramref name="path"/>
    /// and binds it there, with the rules every AiEdge section follows:
    /// <list type="bullet">
    /// <item>The section's shape is <typeparamref name="TOptions"/>'s: every key must name a property the
    /// configuration binder sets (public setter, or a get-only collection, dictionary or object filled in place;
    /// compared case-insensitively; <see cref="ConfigurationKeyNameAttribute"/> honoured). A dictionary's keys are
    /// free names and its entries have the entry type's shape. Any other key under <c>AiEdge</c> that no declared
    /// section accounts for is an error naming its full path and the nearest valid key (edit distance,
    /// case-insensitive); keys of packages that are not added are errors too.</item>
    /// <item>A value that does not convert to its property's type is an error naming the key and the value; the
    /// rest of the section still binds (nothing is dropped around it).</item>
    /// <item>Every <see cref="TimeSpan"/> accepts both <c>00:05:00</c> and <c>250ms</c>, <c>30s</c>, <c>5m</c>,
    /// <c>1h</c>, <c>1d</c>. Only this section's own binding sees that syntax: the application's binder and type
    /// converters are not changed.</item>
    /// <item>At startup, these errors and the failures of every <see cref="IValidateOptions{TOptions}"/> of every
    /// declared section are thrown together as one <see cref="OptionsValidationException"/>, so the caller need not
    /// call <c>ValidateOnStart()</c>.</item>
    /// <item>When configuration reloads, <see cref="IOptionsMonitor{TOptions}"/> announces the change only if the
    /// new options pass every check; otherwise an error is logged (event 1970, <c>ConfigurationReloadRejected</c>)
    /// and the monitor keeps the previous value. Whether a change takes effect without a restart is up to the
    /// package reading the options (it must read them through <see cref="IOptionsMonitor{TOptions}"/>).</item>
    /// </list>
    /// Declaring the same section and type again has no effect, so a package's <c>Add*</c> may call it each time.
    /// Options configured in code (<c>services.Configure&lt;TOptions&gt;(...)</c>) apply in registration order as
    /// usual.
    /// </summary>
    /// <typeparam name="TOptions">The options type bound from the section (the unnamed options).</typeparam>
    /// <param name="edge">The AiEdge builder.</param>
    /// <param name="path">The section's full path: <c>AiEdge</c> or a path below it, e.g. <c>AiEdge:RateLimiting</c>.</param>
    /// <returns>The builder.</returns>
    public static IAiEdgeBuilder AddConfigurationSection<TOptions>(this IAiEdgeBuilder edge, string path)
        where TOptions : class
    {
        ArgumentNullException.ThrowIfNull(edge);
        ArgumentException.ThrowIfNullOrEmpty(path);
        const string Root = AiEdgeServiceCollectionExtensions.ConfigurationSection;
        if (!path.Equals(Root, StringComparison.OrdinalIgnoreCase) && !path.StartsWith(Root + ":", StringComparison.OrdinalIgnoreCase))
        {
            throw new ArgumentException("An AiEdge configuration section must be '" + Root + "' or below it, not '" + path + "'.", nameof(path));
        }

        var sections = edge is AiEdgeBuilder builder
            ? builder.Sections
            : throw new ArgumentException("The builder must be the one returned by AddAiEdge() or AddAiEdgeCore().", nameof(edge));
        if (sections.Contains(path, typeof(TOptions)))
        {
            return edge;
        }

        sections.Add(new ConfigurationSections.Registration(path, typeof(TOptions), static services => Failures<TOptions>(services)));
        var services = edge.Services;
        services.AddOptions();
        services.AddSingleton<IConfigureOptions<TOptions>>(sp => new ShapeBinding<TOptions>(sp.GetRequiredService<IConfiguration>(), sections, path));
        services.AddSingleton<IValidateOptions<TOptions>>(sp => new ShapeValidator<TOptions>(sp.GetRequiredService<IConfiguration>(), sections, path));
        services.AddSingleton<IOptionsChangeTokenSource<TOptions>>(sp => new ValidatedChangeTokenSource<TOptions>(
            sp.GetRequiredService<IConfiguration>(),
            sp.GetRequiredService<IOptionsFactory<TOptions>>(),
            sp.GetRequiredService<ILogger<ConfigurationSections>>(),
            path));
        return edge;
    }

    private static IEnumerable<string> Failures<TOptions>(IServiceProvider services)
        where TOptions : class
    {
        try
        {
            services.GetRequiredService<IOptionsFactory<TOptions>>().Create(Options.Options.DefaultName);
            return [];
        }
        catch (OptionsValidationException exception)
        {
            return exception.Failures;
        }
    }
}
