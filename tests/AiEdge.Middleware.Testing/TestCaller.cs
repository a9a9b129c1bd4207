using System.Net;
using System.Security.Claims;
using AiEdge.Middleware;
using Microsoft.AspNetCore.Builder;

namespace AiEdge.Middleware.Testing;

/// <summary>
/// Test-only request headers that stand in for what earlier stages resolve in production: <see cref="IpHeader"/>
/// for the forwarded-header-normalized client address, <see cref="UserHeader"/> (with the optional plan, tenant,
/// API key, issuer and scheme headers) for an authenticated identity.
/// </summary>
public static class TestCaller
{
    /// <summary>The client address the request appears to come from.</summary>
    public const string IpHeader = "X-Test-Ip";

    /// <summary>The caller id; its presence makes the request authenticated.</summary>
    public const string UserHeader = "X-Test-User";

    /// <summary>The caller's plan claim.</summary>
    public const string PlanHeader = "X-Test-Plan";

    /// <summary>The caller's <c>tenant</c> claim.</summary>
    public const string TenantHeader = "X-Test-Tenant";

    /// <summary>The caller's API key name claim.</summary>
    public const string ApiKeyHeader = "X-Test-ApiKey";

    /// <summary>The issuer of every claim (default: the local authority).</summary>
    public const string IssuerHeader = "X-Test-Issuer";

    /// <summary>The identity's authentication type (default: <c>test</c>).</summary>
    public const string SchemeHeader = "X-Test-Scheme";

    /// <summary>Adds middleware that applies the test headers to the connection and the user.</summary>
    /// <param name="app">The application, before <c>UseAiEdge()</c>.</param>
    public static void UseTestCaller(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.Use(static (context, next) =>
        {
            var headers = context.Request.Headers;
            if (headers.TryGetValue(IpHeader, out var ip))
            {
                context.Connection.RemoteIpAddress = IPAddress.Parse(ip.ToString());
            }

            if (headers.TryGetValue(UserHeader, out var user))
            {
                var issuer = headers.TryGetValue(IssuerHeader, out var i) ? i.ToString() : ClaimsIdentity.DefaultIssuer;
                var scheme = headers.TryGetValue(SchemeHeader, out var s) ? s.ToString() : "test";
                var claims = new List<Claim>
                {
                    new(ClaimTypes.NameIdentifier, user.ToString(), ClaimValueTypes.String, issuer),
                    new("sub", user.ToString(), ClaimValueTypes.String, issuer),
                };
                if (headers.TryGetValue(PlanHeader, out var plan))
                {
                    claims.Add(new Claim(AiEdgeClaimTypes.Plan, plan.ToString(), ClaimValueTypes.String, issuer));
                }

                if (headers.TryGetValue(TenantHeader, out var tenant))
                {
                    claims.Add(new Claim("tenant", tenant.ToString(), ClaimValueTypes.String, issuer));
                }

                if (headers.TryGetValue(ApiKeyHeader, out var key))
                {
                    claims.Add(new Claim(AiEdgeClaimTypes.ApiKeyName, key.ToString(), ClaimValueTypes.String, issuer));
                }

                context.User = new ClaimsPrincipal(new ClaimsIdentity(claims, scheme));
            }

            return next(context);
        });
    }
}
