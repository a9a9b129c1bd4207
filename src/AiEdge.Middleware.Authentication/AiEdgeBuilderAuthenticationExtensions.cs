using AiEdge.Middleware;
using AiEdge.Middleware.Authentication;
using AiEdge.Middleware.Authentication.Internal;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds API-key and JWT bearer identity to the AiEdge pipeline.</summary>
public static class AiEdgeBuilderAuthenticationExtensions
{
    private static readonly string StageKey = typeof(EdgeAuthenticationMiddleware).FullName!;

    // The key app.UseAuthentication() sets; WebApplication adds that middleware at the front of every pipeline
    // whose services hold authentication schemes, unless the key is present.
    private const string AuthenticationMiddlewareSetKey = "__AuthenticationMiddlewareSet";

    /// <summary>
    /// Authenticates callers by API key (the <c>X-API-Key</c> header or <c>Authorization: Bearer</c>, checked against
    /// SHA-256 hashes) and JWT bearer tokens, on ASP.NET Core authentication schemes, and enforces per-endpoint
    /// requirements (<c>.RequireScopes(...)</c>, <c>.RequireAuthenticatedCaller()</c>) with 401, 403 and 400
    /// problem details. The caller's name, plan and scopes become claims that rate limiting and caching read.
    /// Options are bound from <c>AiEdge:Authentication</c> and validated at startup. Runs after CORS and the health
    /// endpoints and before rate limiting. Calling it again only applies <paramref name="configure"/>.
    /// </summary>
    /// <param name="edge">The AiEdge builder.</param>
    /// <param name="configure">Configures keys, tokens and requirements in code, after configuration is bound.</param>
    /// <returns>The builder.</returns>
    public static IAiEdgeBuilder AddEdgeAuthentication(this IAiEdgeBuilder edge, Action<EdgeAuthenticationOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(edge);
        var services = edge.Services;
        if (!edge.HasStage(StageKey))
        {
            services.AddOptions<EdgeAuthenticationOptions>()
                .BindConfiguration(EdgeAuthenticationDefaults.ConfigurationSection)
                .ValidateOnStart();
            services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<EdgeAuthenticationOptions>, EdgeAuthenticationOptionsValidator>());
            services.TryAddSingleton(TimeProvider.System);
            services.TryAddSingleton<AuthenticationMetrics>();
            services.TryAddSingleton<AuthenticationSettings>();
            services.AddAuthentication()
                .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(EdgeAuthenticationDefaults.ApiKeyScheme, displayName: "API key", configureOptions: null)
                .AddScheme<AuthenticationSchemeOptions, JwtBearerAuthenticationHandler>(EdgeAuthenticationDefaults.JwtBearerScheme, displayName: "JWT bearer", configureOptions: null)
                .AddPolicyScheme(EdgeAuthenticationDefaults.AuthenticationScheme, displayName: "AiEdge", static options =>
                    options.ForwardDefaultSelector = static context => context.RequestServices.GetRequiredService<AuthenticationSettings>().SelectScheme(context.Request));

            // [Authorize] and app.UseAuthentication() use these schemes when the application has no schemes of its own.
            services.PostConfigure<AuthenticationOptions>(static options =>
            {
                if (options.DefaultScheme is null && OnlyEdgeSchemes(options))
                {
                    options.DefaultScheme = EdgeAuthenticationDefaults.AuthenticationScheme;
                }
            });
            edge.AddStage(AiEdgeStage.Authentication, StageKey, static app =>
            {
                // With only the AiEdge schemes, this stage does all that WebApplication's implicit
                // UseAuthentication() would (same schemes, context.User and the authenticate-result features, only
                // for requests that present credentials), so the implicit one is not added: it would authenticate
                // every request a second time, before the edge, creating two handlers per request.
                var options = app.ApplicationServices.GetRequiredService<IOptions<AuthenticationOptions>>().Value;
                if (OnlyEdgeSchemes(options))
                {
                    app.Properties.TryAdd(AuthenticationMiddlewareSetKey, true);
                }

                app.UseMiddleware<EdgeAuthenticationMiddleware>();
            });
        }

        if (configure is not null)
        {
            services.Configure(configure);
        }

        return edge;
    }

    private static bool OnlyEdgeSchemes(AuthenticationOptions options)
    {
        foreach (var scheme in options.Schemes)
        {
            if (!scheme.Name.StartsWith(EdgeAuthenticationDefaults.AuthenticationScheme, StringComparison.Ordinal))
            {
                return false;
            }
        }

        return true;
    }
}
