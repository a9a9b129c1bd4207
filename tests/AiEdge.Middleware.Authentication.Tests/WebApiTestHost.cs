using AiEdge.Middleware.Testing;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;

namespace AiEdge.Middleware.Authentication.Tests;

/// <summary>Where a <c>webapi</c>-template app calls its own authentication and authorization middleware.</summary>
public enum TemplateOrder
{
    /// <summary>The template as generated, AiEdge added below: <c>UseAuthorization(); UseAiEdge();</c>.</summary>
    AuthorizationBeforeUseAiEdge,

    /// <summary><c>UseAuthentication(); UseAuthorization(); UseAiEdge();</c>.</summary>
    BothBeforeUseAiEdge,

    /// <summary><c>UseAiEdge(); UseAuthentication(); UseAuthorization();</c>.</summary>
    BothAfterUseAiEdge,

    /// <summary><c>UseAiEdge();</c> only: WebApplication's implicit middleware.</summary>
    Implicit,

    /// <summary><c>UseRouting(); UseAiEdge();</c>: the app routes, AiEdge authorizes after its authentication.</summary>
    RoutingBeforeUseAiEdge,

    /// <summary><c>UseRouting(); UseAuthentication(); UseAiEdge(); UseAuthorization();</c>.</summary>
    RoutingBeforeUseAiEdgeAuthorizationAfter,
}

/// <summary>Orders outside <see cref="TemplateOrder"/>'s every-case theories.</summary>
public static class AppRoutedOrder
{
    /// <summary><c>UseRouting(); UseAuthorization(); UseAiEdge();</c>: authorization before any authentication, refused at startup.</summary>
    public const TemplateOrder RoutingAndAuthorizationBeforeUseAiEdge = (TemplateOrder)100;

    /// <summary><c>UseRouting(); UseAuthentication(); UseAuthorization(); UseAiEdge();</c>: the app authorizes with its own scheme.</summary>
    public const TemplateOrder AllBeforeUseAiEdge = (TemplateOrder)101;
}

/// <summary>
/// A host shaped like the <c>webapi</c> template: controllers with <c>[Authorize]</c>, the app's own
/// <c>AddAuthentication().AddJwtBearer()</c> against an identity provider, and AiEdge beside it.
/// </summary>
internal static class WebApiTestHost
{
    public const string AppAudience = "app-api";

    public static Task<TestApp> StartAsync(
        FakeIdentityProvider idp,
        TemplateOrder order,
        bool defaultScheme,
        IDictionary<string, string?>? configuration = null)
        => TestApp.StartAsync(
            builder =>
            {
                builder.Services.AddControllers().AddApplicationPart(typeof(WeatherForecastController).Assembly);
                var authentication = defaultScheme
                    ? builder.Services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme)
                    : builder.Services.AddAuthentication();
                authentication.AddJwtBearer(options =>
                {
                    options.Authority = idp.Issuer;
                    options.RequireHttpsMetadata = false;
                    options.Audience = AppAudience;
                });
                builder.Services.AddAuthorization();
                builder.Services.AddAiEdgeCore(static edge => edge.AddSecurityHeaders().AddEdgeAuthentication());
            },
            app =>
            {
                switch (order)
                {
                    case TemplateOrder.AuthorizationBeforeUseAiEdge:
                        app.UseAuthorization();
                        app.UseAiEdge();
                        break;
                    case TemplateOrder.BothBeforeUseAiEdge:
                        app.UseAuthentication();
                        app.UseAuthorization();
                        app.UseAiEdge();
                        break;
                    case TemplateOrder.BothAfterUseAiEdge:
                        app.UseAiEdge();
                        app.UseAuthentication();
                        app.UseAuthorization();
                        break;
                    case TemplateOrder.RoutingBeforeUseAiEdge:
                        app.UseRouting();
                        app.UseAiEdge();
                        break;
                    case TemplateOrder.RoutingBeforeUseAiEdgeAuthorizationAfter:
                        app.UseRouting();
                        app.UseAuthentication();
                        app.UseAiEdge();
                        app.UseAuthorization();
                        break;
                    case AppRoutedOrder.AllBeforeUseAiEdge:
                        app.UseRouting();
                        app.UseAuthentication();
                        app.UseAuthorization();
                        app.UseAiEdge();
                        break;
                    case AppRoutedOrder.RoutingAndAuthorizationBeforeUseAiEdge:
                        app.UseRouting();
                        app.UseAuthorization();
                        app.UseAiEdge();
                        break;
                    default:
                        app.UseAiEdge();
                        break;
                }

                app.MapControllers();
                app.MapGet("/minimal", Caller).RequireAuthorization();
                app.MapGet("/open", Caller);
                app.MapGet("/predict", Caller).RequireScopes("predict");
            },
            configuration ?? TestKeys.Configuration(jwt: false));

    public static IResult Caller(HttpContext context) => Results.Ok(Describe(context));

    public static object Describe(HttpContext context) => new
    {
        authenticated = context.User.Identity?.IsAuthenticated ?? false,
        id = context.GetCallerId(),
        plan = context.GetCallerPlan(),
        scheme = context.User.Identity?.AuthenticationType,
    };
}

/// <summary>The template's controller, behind <c>[Authorize]</c>.</summary>
[ApiController]
[Route("weatherforecast")]
[Authorize]
public sealed class WeatherForecastController : ControllerBase
{
    /// <summary>Describes the caller.</summary>
    [HttpGet]
    public IActionResult Get() => Ok(WebApiTestHost.Describe(HttpContext));
}
