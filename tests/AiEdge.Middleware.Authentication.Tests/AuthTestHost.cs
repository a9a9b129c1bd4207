using AiEdge.Middleware.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace AiEdge.Middleware.Authentication.Tests;

/// <summary>A real host with AiEdge authentication and endpoints of every requirement kind, each echoing the caller.</summary>
internal static class AuthTestHost
{
    public static Task<TestApp> StartAsync(
        IDictionary<string, string?>? configuration = null,
        Action<EdgeAuthenticationOptions>? configure = null,
        TimeProvider? time = null,
        bool kestrel = false)
        => TestApp.StartEdgeAsync(
            edge => edge.AddEdgeAuthentication(configure),
            Map,
            new TestAppOptions
            {
                Configuration = configuration ?? TestKeys.Configuration(),
                Time = time ?? new FakeTimeProvider(TestKeys.Now),
                Kestrel = kestrel,
            });

    private static void Map(WebApplication app)
    {
        app.MapGet("/open", Caller);
        app.MapGet("/anonymous", Caller).AllowAnonymous();
        app.MapGet("/authenticated", Caller).RequireAuthenticatedCaller();
        app.MapGet("/predict", Caller).RequireScopes("predict");
        app.MapGet("/predict-and-generate", Caller).RequireScopes("predict", "generate");
        app.MapGet("/attribute", [RequireScopes("admin")] (HttpContext context) => Caller(context));
        var group = app.MapGroup("/group").RequireScopes("predict");
        group.MapGet("/admin", Caller).RequireScopes("admin");
        group.MapGet("/plain", Caller);
    }

    private static IResult Caller(HttpContext context)
    {
        var scopes = new List<string>();
        foreach (var claim in context.User.FindAll(AiEdgeClaimTypes.Scope))
        {
            scopes.Add(claim.Value);
        }

        return Results.Ok(new
        {
            authenticated = context.User.Identity?.IsAuthenticated ?? false,
            id = context.GetCallerId(),
            plan = context.GetCallerPlan(),
            key = context.User.FindFirst(AiEdgeClaimTypes.ApiKeyName)?.Value,
            scheme = context.User.Identity?.AuthenticationType,
            scopes,
        });
    }

    public static HttpRequestMessage Get(string path, string? apiKey = null, string? bearer = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (apiKey is not null)
        {
            request.Headers.TryAddWithoutValidation("X-API-Key", apiKey);
        }

        if (bearer is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + bearer);
        }

        return request;
    }

    public static string? Challenge(HttpResponseMessage response)
        => response.Headers.TryGetValues("WWW-Authenticate", out var values) ? string.Join(", ", values) : null;

}
