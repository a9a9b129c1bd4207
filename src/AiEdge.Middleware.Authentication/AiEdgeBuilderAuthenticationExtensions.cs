using AiEdge.Middleware;
using AiEdge.Middleware.Authentication;
using AiEdge.Middleware.Authentication.Internal;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
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

    // ASP.NET Core's switch that turns off using the only registered scheme as the default.
    private const string SuppressAutoDefaultSchemeSwitch = "Microsoft.AspNetCore.Authentication.SuppressAutoDefaultScheme";

    /// <summary>
    /// Authenticates callers by API key (the <c>X-API-Key</c> header or <c>Authorization: Bearer</c>, checked against
    /// SHA-256 hashes) and JWT bearer tokens (ASP.NET Core's JwtBearer), on ASP.NET Core authentication schemes beside
    /// the app's own, and enforces per-endpoint requirements (<c>.RequireScopes(...)</c>,
    /// <c>.RequireAuthenticatedCaller()</c>) with 401, 403 and 400 problem details. The caller's name, plan and scopes
    /// come from whichever scheme authenticated it, AiEdge's or the app's. Options are bound from
    /// <c>AiEdge:Authentication</c> and validated at startup. Runs after CORS and the health endpoints and before rate
    /// limiting. Calling it again only applies <paramref name="configure"/>.
    /// </summary>
    /// <remarks>
    /// The schemes <see cref="EdgeAuthenticationDefaults.ApiKeyScheme"/>, <see cref="EdgeAuthenticationDefaults.JwtBearerScheme"/>
    /// and <see cref="EdgeAuthenticationDefaults.AuthenticationScheme"/> (which picks one of them per request) are added
    /// without changing which scheme the app's <c>[Authorize]</c> uses: an explicit default stays; an app with exactly
    /// one scheme of its own and no default keeps that scheme as the default (as ASP.NET Core infers it); only an app
    /// with no scheme of its own gets <see cref="EdgeAuthenticationDefaults.AuthenticationScheme"/> as its default.
    /// </remarks>
    /// <param name="edge">The AiEdge builder.</param>
    /// <param name="configure">Configures keys, tokens and requirements in code, after configuration is bound.</param>
    /// <returns>The builder.</returns>
    public static IAiEdgeBuilder AddEdgeAuthentication(this IAiEdgeBuilder edge, Action<EdgeAuthenticationOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(edge);
        var services = edge.Services;
        if (!edge.HasStage(StageKey))
        {
            edge.AddConfigurationSection<EdgeAuthenticationOptions>(EdgeAuthenticationDefaults.ConfigurationSection);
            services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<EdgeAuthenticationOptions>, EdgeAuthenticationOptionsValidator>());
            services.TryAddSingleton(TimeProvider.System);
            services.TryAddSingleton<AuthenticationMetrics>();
            services.TryAddSingleton<AuthenticationSettings>();
            services.AddAuthentication()
                .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(EdgeAuthenticationDefaults.ApiKeyScheme, displayName: "API key", configureOptions: null)
                .AddJwtBearer(EdgeAuthenticationDefaults.JwtBearerScheme, displayName: "JWT bearer", configureOptions: static _ => { })
                .AddPolicyScheme(EdgeAuthenticationDefaults.AuthenticationScheme, displayName: "AiEdge", static options =>
                    options.ForwardDefaultSelector = static context => context.RequestServices.GetRequiredService<AuthenticationSettings>().SelectScheme(context.Request));
            services.TryAddEnumerable(ServiceDescriptor.Singleton<IConfigureOptions<JwtBearerOptions>, EdgeJwtBearerOptionsSetup>());
            services.PostConfigure<AuthenticationOptions>(KeepDefaultScheme);
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

    /// <summary>
    /// Configures the JwtBearer options of AiEdge's JWT scheme after they are set from <c>AiEdge:Authentication:Jwt</c>:
    /// set <see cref="JwtBearerEvents"/> delegates on <c>options.Events</c> (they run before AiEdge's own handling, which
    /// is skipped when they decide), a <c>Backchannel</c> for the discovery document, or further validation parameters.
    /// Replacing <c>options.Events</c> or <c>TokenValidationParameters</c> drops AiEdge's checks; change their members instead.
    /// </summary>
    /// <param name="edge">The AiEdge builder.</param>
    /// <param name="configure">Configures the options of the <see cref="EdgeAuthenticationDefaults.JwtBearerScheme"/> scheme.</param>
    /// <returns>The builder.</returns>
    public static IAiEdgeBuilder ConfigureEdgeJwtBearer(this IAiEdgeBuilder edge, Action<JwtBearerOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(edge);
        ArgumentNullException.ThrowIfNull(configure);
        edge.AddEdgeAuthentication();
        edge.Services.Configure(EdgeAuthenticationDefaults.JwtBearerScheme, configure);
        return edge;
    }

    /// <summary>
    /// Leaves the app's default scheme as ASP.NET Core would have it without AiEdge's schemes: an explicit default
    /// stays, the app's only scheme stays the default, and an app without schemes of its own authenticates with AiEdge.
    /// </summary>
    private static void KeepDefaultScheme(AuthenticationOptions options)
    {
        if (options.DefaultScheme is not null)
        {
            return;
        }

        var appSchemes = AuthenticationSettings.CountAppSchemes(options);
        if (appSchemes == 0)
        {
            options.DefaultScheme = EdgeAuthenticationDefaults.AuthenticationScheme;
        }
        else if (appSchemes == 1 && !(AppContext.TryGetSwitch(SuppressAutoDefaultSchemeSwitch, out var suppressed) && suppressed))
        {
            foreach (var scheme in options.Schemes)
            {
                if (!AuthenticationSettings.IsEdgeScheme(scheme.Name))
                {
                    options.DefaultScheme = scheme.Name;
                }
            }
        }
    }

    private static bool OnlyEdgeSchemes(AuthenticationOptions options) => AuthenticationSettings.CountAppSchemes(options) == 0;
}
