using AiEdge.Middleware.Configuration.Internal;
using AiEdge.Middleware;
using AiEdge.Middleware.Internal;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Adds the AiEdge pipeline to an application.</summary>
public static class AiEdgeApplicationBuilderExtensions
{
    private const string AppliedKey = "AiEdge.Middleware.Applied";
    private const string EndpointRouteBuilderKey = "__EndpointRouteBuilder";

    // The keys app.UseAuthentication() and app.UseAuthorization() set on the application builder.
    private const string AuthenticationMiddlewareSetKey = "__AuthenticationMiddlewareSet";
    private const string AuthorizationMiddlewareSetKey = "__AuthorizationMiddlewareSet";

    /// <summary>
    /// Inserts every concern registered with <c>AddAiEdge()</c> in the fixed order of <see cref="AiEdgeStage"/>:
    /// forwarded headers, routing, security headers, CORS, health endpoints, authentication, rate limiting, body
    /// limits, caching, streaming control and circuit breakers. Map endpoints after calling it.
    /// </summary>
    /// <remarks>
    /// When the app has not called <c>UseRouting()</c> before, this adds routing itself; an app's
    /// <c>UseAuthorization()</c> placed before <c>UseAiEdge()</c> (as the templates place it) would then run before any
    /// endpoint is selected. So when the app registered authorization services, authorization also runs right after
    /// the <see cref="AiEdgeStage.Authentication"/> stage (where ASP.NET Core expects it: after routing and
    /// authentication, before rate limiting and caching), and <c>[Authorize]</c> and <c>RequireAuthorization()</c>
    /// work wherever the app calls <c>UseAuthentication()</c> and <c>UseAuthorization()</c>. When the app routes
    /// itself (<c>UseRouting()</c> before <c>UseAiEdge()</c>), AiEdge authenticates and the app has not called
    /// <c>UseAuthorization()</c> yet, authorization is added after the authentication stage too. The order that cannot
    /// work, the app's <c>UseRouting()</c> and <c>UseAuthorization()</c> before <c>UseAiEdge()</c> with no
    /// <c>UseAuthentication()</c> before them while AiEdge authenticates (authorization would decide before any
    /// authentication ran), fails here, at startup, naming what to move.
    /// </remarks>
    /// <param name="app">The application builder.</param>
    /// <returns>The application builder.</returns>
    /// <exception cref="InvalidOperationException">
    /// AiEdge services are not registered, the method was called twice, or the app's <c>UseRouting()</c> and
    /// <c>UseAuthorization()</c> both run before <c>UseAiEdge()</c>, with no <c>UseAuthentication()</c>, while AiEdge
    /// authenticates callers.
    /// </exception>
    public static IApplicationBuilder UseAiEdge(this IApplicationBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);

        var stages = app.ApplicationServices.GetService<AiEdgeStageRegistry>()
            ?? throw new InvalidOperationException("AiEdge services are not registered: call builder.Services.AddAiEdge() before app.UseAiEdge().");
        if (!app.Properties.TryAdd(AppliedKey, true))
        {
            throw new InvalidOperationException("app.UseAiEdge() was called more than once.");
        }

        // Stages read their options while the pipeline is built, before the host's start-up validation: every
        // configuration mistake of every section is reported first, together, in one exception.
        app.ApplicationServices.GetRequiredService<IOptionsFactory<ConfigurationCheck>>().Create(Options.DefaultName);

        var appRouted = app.Properties.ContainsKey(EndpointRouteBuilderKey);
        if (appRouted
            && app.Properties.ContainsKey(AuthorizationMiddlewareSetKey)
            && !app.Properties.ContainsKey(AuthenticationMiddlewareSetKey)
            && Authenticates(stages))
        {
            throw new InvalidOperationException(
                "app.UseAuthorization() is called after app.UseRouting() and before app.UseAiEdge(), with no "
                + "app.UseAuthentication() before it: authorization would decide before AiEdge authenticates the caller, "
                + "so [Authorize] and RequireAuthorization() would refuse callers AiEdge authenticates. Move "
                + "app.UseAuthorization() after app.UseAiEdge(), or remove app.UseRouting() (UseAiEdge() then routes and "
                + "authorizes in the right place).");
        }

        var routed = false;
        var authorize = false;
        var authorized = false;
        foreach (var stage in stages.Ordered())
        {
            if (!routed && stage.Stage > AiEdgeStage.Routing)
            {
                authorize = EnsureRouting(app, stages);
                routed = true;
            }

            if (authorize && !authorized && stage.Stage > AiEdgeStage.Authentication)
            {
                EnsureAuthorization(app);
                authorized = true;
            }

            stage.Apply(app);
        }

        if (!routed)
        {
            authorize = EnsureRouting(app, stages);
        }

        if (authorize && !authorized)
        {
            EnsureAuthorization(app);
        }

        return app;
    }

    /// <summary>
    /// Adds routing unless the app already routes; returns whether authorization must follow the authentication
    /// stage: when UseAiEdge routes (an earlier UseAuthorization() of the app saw no endpoint), or when the app routes,
    /// AiEdge authenticates and the app has not authorized yet (WebApplication's implicit authorization would run
    /// before the app's routing).
    /// </summary>
    private static bool EnsureRouting(IApplicationBuilder app, AiEdgeStageRegistry stages)
    {
        if (app.Properties.ContainsKey(EndpointRouteBuilderKey))
        {
            return !app.Properties.ContainsKey(AuthorizationMiddlewareSetKey) && Authenticates(stages);
        }

        app.UseRouting();
        return true;
    }

    private static bool Authenticates(AiEdgeStageRegistry stages)
    {
        foreach (var stage in stages.Ordered())
        {
            if (stage.Stage == AiEdgeStage.Authentication)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Runs authorization after the routing UseAiEdge added, when the app registered authorization services. It also
    /// tells WebApplication that authorization is in place, so it adds none of its own before the pipeline (where
    /// no endpoint would be selected yet).
    /// </summary>
    private static void EnsureAuthorization(IApplicationBuilder app)
    {
        if (app.ApplicationServices.GetService<IServiceProviderIsService>()?.IsService(typeof(IAuthorizationHandlerProvider)) is true)
        {
            app.UseAuthorization();
        }
    }
}
