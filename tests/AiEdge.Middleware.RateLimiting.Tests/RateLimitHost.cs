using System.Net;
using System.Security.Claims;
using AiEdge.Middleware.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace AiEdge.Middleware.RateLimiting.Tests;

/// <summary>
/// Starts a real host with rate limiting and the fake clock (FakeTimeProvider). Test-only headers stand in for what
/// earlier stages resolve in production: <c>X-Test-Ip</c> for the forwarded-header-normalized address, <c>X-Test-User</c>,
/// <c>X-Test-Plan</c> and <c>X-Test-Tenant</c> for an authenticated identity.
/// </summary>
internal static class RateLimitHost
{
    public static Task<TestApp> StartAsync(
        FakeTimeProvider time,
        Action<RateLimitingOptions>? configure,
        Action<WebApplication> map,
        IDictionary<string, string?>? configuration = null,
        bool kestrel = false,
        Action<IServiceCollection>? services = null)
    {
        void ConfigureServices(WebApplicationBuilder builder)
        {
            builder.Services.AddSingleton<TimeProvider>(time);
            services?.Invoke(builder.Services);
            builder.Services.AddAiEdgeCore(edge => edge.AddRateLimiting(configure));
        }

        void ConfigureApp(WebApplication app)
        {
            app.Use(static (context, next) =>
            {
                if (context.Request.Headers.TryGetValue("X-Test-Ip", out var ip))
                {
                    context.Connection.RemoteIpAddress = IPAddress.Parse(ip.ToString());
                }

                if (context.Request.Headers.TryGetValue("X-Test-User", out var user))
                {
                    // X-Test-Issuer issues every claim and X-Test-Scheme types the identity (defaults: the local authority, "test").
                    var issuer = context.Request.Headers.TryGetValue("X-Test-Issuer", out var i) ? i.ToString() : ClaimsIdentity.DefaultIssuer;
                    var scheme = context.Request.Headers.TryGetValue("X-Test-Scheme", out var s) ? s.ToString() : "test";
                    var claims = new List<Claim>
                    {
                        new(ClaimTypes.NameIdentifier, user.ToString(), ClaimValueTypes.String, issuer),
                        new("sub", user.ToString(), ClaimValueTypes.String, issuer),
                    };
                    if (context.Request.Headers.TryGetValue("X-Test-Plan", out var plan))
                    {
                        claims.Add(new Claim(AiEdgeClaimTypes.Plan, plan.ToString(), ClaimValueTypes.String, issuer));
                    }

                    if (context.Request.Headers.TryGetValue("X-Test-Tenant", out var tenant))
                    {
                        claims.Add(new Claim("tenant", tenant.ToString(), ClaimValueTypes.String, issuer));
                    }

                    if (context.Request.Headers.TryGetValue("X-Test-ApiKey", out var key))
                    {
                        claims.Add(new Claim(AiEdgeClaimTypes.ApiKeyName, key.ToString(), ClaimValueTypes.String, issuer));
                    }

                    context.User = new ClaimsPrincipal(new ClaimsIdentity(claims, scheme));
                }

                return next(context);
            });
            app.UseAiEdge();
            map(app);
        }

        return kestrel
            ? TestApp.StartKestrelAsync(ConfigureServices, ConfigureApp, configuration)
            : TestApp.StartAsync(ConfigureServices, ConfigureApp, configuration);
    }

    public static async Task<HttpResponseMessage> SendAsync(this TestApp app, string path, string? ip = null, string? user = null, string? plan = null, HttpMethod? method = null, HttpContent? content = null, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(method ?? HttpMethod.Get, path) { Content = content };
        if (ip is not null)
        {
            request.Headers.Add("X-Test-Ip", ip);
        }

        if (user is not null)
        {
            request.Headers.Add("X-Test-User", user);
        }

        if (plan is not null)
        {
            request.Headers.Add("X-Test-Plan", plan);
        }

        return await app.Client.SendAsync(request, cancellationToken).WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);
    }

    /// <summary>Sends <paramref name="count"/> requests one after another; returns the status codes.</summary>
    public static async Task<List<HttpStatusCode>> SendManyAsync(this TestApp app, string path, int count, string? ip = null, string? user = null, string? plan = null)
    {
        var statuses = new List<HttpStatusCode>(count);
        for (var i = 0; i < count; i++)
        {
            using var response = await app.SendAsync(path, ip, user, plan);
            statuses.Add(response.StatusCode);
        }

        return statuses;
    }

    public static string Header(this HttpResponseMessage response, string name)
        => response.Headers.TryGetValues(name, out var values) ? string.Join(", ", values) : string.Empty;
}
