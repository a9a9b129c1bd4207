using AiEdge.Middleware;
using AiEdge.Middleware.Configuration.Internal;
using AiEdge.Middleware.Internal;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the AiEdge core services.</summary>
public static class AiEdgeServiceCollectionExtensions
{
    /// <summary>The configuration section every AiEdge option is bound from.</summary>
    public const string ConfigurationSection = "AiEdge";

    /// <summary>
    /// Registers the AiEdge core (stage ordering, RFC 9457 problem details, diagnostics) and lets
    /// <paramref name="configure"/> add concerns. Unlike <c>AddAiEdge()</c> of the <c>AiEdge.Middleware</c> meta
    /// package, it switches no concern on by itself: use it when referencing single concern packages.
    /// Calling it again returns a builder over the same registrations.
    /// </summary>
    /// <param name="services">The application's services.</param>
    /// <param name="configure">Adds concerns, e.g. <c>edge =&gt; edge.AddRateLimiting()</c>.</param>
    /// <returns>The AiEdge builder.</returns>
    public static IAiEdgeBuilder AddAiEdgeCore(this IServiceCollection services, Action<IAiEdgeBuilder>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);

        var stages = Find<AiEdgeStageRegistry>(services);
        var edge = new AiEdgeBuilder(services, stages ?? new AiEdgeStageRegistry(), Find<ConfigurationSections>(services) ?? new ConfigurationSections());
        if (stages is null)
        {
            services.AddSingleton(edge.Stages);
            services.AddSingleton(edge.Sections);
            services.AddRouting();
            services.AddProblemDetails();
            services.AddMetrics();
            services.TryAddSingleton(TimeProvider.System);
            services.TryAddSingleton<RequestErrorMetrics>();
            edge.AddConfigurationSection<AiEdgeOptions>(ConfigurationSection);

            // One start-up check of every declared section, reporting every mistake of all of them at once.
            services.AddOptions<ConfigurationCheck>().ValidateOnStart();
            services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ConfigurationCheck>, ConfigurationCheckValidator>());
            services.TryAddEnumerable(ServiceDescriptor.Singleton<IExceptionHandler, ClientRequestErrorHandler>());
            edge.AddStage(AiEdgeStage.Errors, "AiEdge.Errors", UseErrorProblems);
        }

        configure?.Invoke(edge);
        return edge;
    }

    private static T? Find<T>(IServiceCollection services)
        where T : class
    {
        foreach (var descriptor in services)
        {
            if (descriptor.ServiceType == typeof(T) && descriptor.ImplementationInstance is T registry)
            {
                return registry;
            }
        }

        return null;
    }

    private static void UseErrorProblems(IApplicationBuilder app)
    {
        var options = app.ApplicationServices.GetRequiredService<IOptions<AiEdgeOptions>>().Value;
        if (options.HandleExceptions)
        {
            app.UseExceptionHandler(new ExceptionHandlerOptions
            {
                StatusCodeSelector = static exception => AiEdgeClientErrors.TryGetStatusCode(exception, CancellationToken.None, out var status)
                    ? status
                    : StatusCodes.Status500InternalServerError,

                // A request the client got wrong or abandoned (a malformed, too large, too slow or truncated body, a
                // connection gone) is answered by ClientRequestErrorHandler with its 4xx and logged at Debug there: it
                // is not an application error, so no error log with a stack trace per such request.
                SuppressDiagnosticsCallback = static context => AiEdgeClientErrors.TryGetStatusCode(context.Exception, context.HttpContext.RequestAborted, out _),
            });
        }

        if (options.StatusCodeProblems)
        {
            // UseStatusCodePages() without the framework's per-request HttpContext.Items write.
            app.UseMiddleware<StatusCodeProblemsMiddleware>();
        }
    }
}
