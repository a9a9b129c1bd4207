using System.Net;
using System.Security.Claims;
using AiEdge.Middleware;
using Microsoft.AspNetCore.Http.Features.Authentication;

namespace Microsoft.AspNetCore.Http;

/// <summary>What the AiEdge concerns know about the caller of a request.</summary>
public static class HttpContextEdgeExtensions
{
    /// <summary>Gets the client address after forwarded-header normalization.</summary>
    /// <param name="context">The request.</param>
    /// <returns>The resolved client address, or <see langword="null"/> when unknown.</returns>
    public static IPAddress? GetClientIpAddress(this HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.Connection.RemoteIpAddress;
    }

    /// <summary>
    /// Gets a stable identifier of the authenticated caller (the name-identifier or <c>sub</c> claim, else the API
    /// key name, else the identity name), or <see langword="null"/> for an anonymous request.
    /// </summary>
    /// <param name="context">The request.</param>
    /// <returns>The caller's identifier, or <see langword="null"/>.</returns>
    public static string? GetCallerId(this HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var user = PeekUser(context);
        if (user?.Identity is not { IsAuthenticated: true } identity)
        {
            return null;
        }

        return user.FindFirst(ClaimTypes.NameIdentifier)?.Value
            ?? user.FindFirst("sub")?.Value
            ?? user.FindFirst(AiEdgeClaimTypes.ApiKeyName)?.Value
            ?? identity.Name;
    }

    /// <summary>Gets the authenticated caller's plan (<see cref="AiEdgeClaimTypes.Plan"/>), or <see langword="null"/>.</summary>
    /// <param name="context">The request.</param>
    /// <returns>The plan name, or <see langword="null"/>.</returns>
    public static string? GetCallerPlan(this HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var user = PeekUser(context);
        return user?.Identity is { IsAuthenticated: true } ? user.FindFirst(AiEdgeClaimTypes.Plan)?.Value : null;
    }

    // HttpContext.User creates (and keeps) an empty anonymous principal on every request that has none; reading
    // the authentication feature instead gives the same answer without allocating one.
    private static ClaimsPrincipal? PeekUser(HttpContext context)
        => context is DefaultHttpContext ? context.Features.Get<IHttpAuthenticationFeature>()?.User : context.User;
}
