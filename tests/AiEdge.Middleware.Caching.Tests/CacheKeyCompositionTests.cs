using System.Net;
using System.Security.Claims;
using System.Text;
using AiEdge.Middleware.Caching;
using AiEdge.Middleware.Caching.Internal;
using AiEdge.Middleware.Internal;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace AiEdge.Middleware.Caching.Tests;

/// <summary>
/// The prediction cache key, computed directly (no host): the tenant is part of it, so different callers, sources
/// and issuers never share a key, while one caller sending one body always does.
/// </summary>
public sealed class CacheKeyCompositionTests
{
    private const string Issuer = "https://issuer.example";
    private const string Body = "{\"model\":\"m\",\"input\":\"same for everyone\"}";

    private static readonly ResolvedCachePolicy Policy = new CachePolicyRegistry(Options.Create(new PredictionCacheOptions { Anonymous = AnonymousCaching.Shared })).Default;

    private static ClaimsIdentity ApiKey(string name) => new(
        [new Claim(AiEdgeClaimTypes.ApiKeyName, name, ClaimValueTypes.String, AiEdgeAuthenticationTypes.ApiKey)],
        AiEdgeAuthenticationTypes.ApiKey);

    private static ClaimsIdentity Jwt(string issuer, string subject, params Claim[] extra) => new(
        [new Claim("sub", subject, ClaimValueTypes.String, issuer), .. extra],
        AiEdgeAuthenticationTypes.JwtBearer);

    private static CacheKey KeyFor(ClaimsIdentity? identity, string body = Body, string? address = "198.51.100.7")
    {
        var context = new DefaultHttpContext();
        context.Request.Method = "POST";
        context.Request.Path = "/v1/predict";
        context.Request.ContentType = "application/json";
        context.Connection.RemoteIpAddress = address is null ? null : IPAddress.Parse(address);
        if (identity is not null)
        {
            context.User = new ClaimsPrincipal(identity);
        }

        Assert.Equal(JsonCanonicalResult.Written, CacheLookup.ComputeKey(context, Policy, context.GetCallerId(), Encoding.UTF8.GetBytes(body), ignoreCase: true, out var key));
        return key;
    }

    [Fact]
    public void SameCaller_SameBody_SameKey()
    {
        Assert.Equal(KeyFor(ApiKey("pro-app")), KeyFor(ApiKey("pro-app"), address: "203.0.113.9"));
        Assert.Equal(KeyFor(Jwt(Issuer, "alice")), KeyFor(Jwt(Issuer, "alice")));
        Assert.Equal(KeyFor(null), KeyFor(null, address: "203.0.113.9"));
        Assert.Equal(KeyFor(ApiKey("pro-app")), KeyFor(ApiKey("pro-app"), body: "{ \"input\": \"same for everyone\", \"model\": \"m\" }"));
    }

    [Fact]
    public void DifferentCallers_SameBody_DifferentKeys()
    {
        CacheKey[] keys =
        [
            KeyFor(null),
            KeyFor(ApiKey("pro-app")),
            KeyFor(ApiKey("free-app")),
            KeyFor(Jwt(Issuer, "pro-app")),
            KeyFor(Jwt(Issuer, "key:pro-app")),
            KeyFor(Jwt(Issuer, "alice")),
            KeyFor(Jwt("https://other-issuer.example", "alice")),
            KeyFor(Jwt(Issuer + ":", "alice")),
            KeyFor(Jwt(Issuer, ":alice")),
            KeyFor(Jwt(Issuer, "x", new Claim(AiEdgeClaimTypes.ApiKeyName, "pro-app", ClaimValueTypes.String, Issuer))),
            KeyFor(new ClaimsIdentity([new Claim(ClaimTypes.NameIdentifier, "pro-app")], "Cookies")),
        ];

        Assert.Equal(keys.Length, keys.Distinct().Count());
    }

    [Fact]
    public void SameCaller_DifferentBody_DifferentKey()
        => Assert.NotEqual(KeyFor(ApiKey("pro-app")), KeyFor(ApiKey("pro-app"), body: "{\"model\":\"m\",\"input\":\"other\"}"));
}
