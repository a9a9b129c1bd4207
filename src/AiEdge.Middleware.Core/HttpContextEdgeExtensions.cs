using System.Net;
using System.Security.Claims;
using AiEdge.Middleware;
using AiEdge.Middleware.Internal;
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
    /// Gets the caller id of the authenticated caller: an identifier qualified by where the identity came from, so
    /// identities of different sources never share one. <c>key:&lt;name&gt;</c> for an AiEdge API key,
    /// <c>jwt:&lt;issuer length&gt;:&lt;issuer&gt;:&lt;subject&gt;</c> for an AiEdge JWT, and
    /// <c>app:...</c> (authentication type, claim issuer, subject) for an identity of the app's own scheme; see
    /// <see cref="AiEdgeCallerIds"/> for the exact grammar and why two sources can never spell the same id.
    /// Returns <see langword="null"/> for an anonymous request and for an identity that names no caller (a JWT
    /// without <c>sub</c>, an identity without a name-identifier, <c>sub</c> or name claim).
    /// </summary>
    /// <param name="context">The request.</param>
    /// <returns>The caller id, or <see langword="null"/>.</returns>
    /// <remarks>
    /// Prediction-cache tenancy, idempotency scope and <c>Caller</c> rate-limit partitions key on this value. It is
    /// computed once per request and principal (a request without a principal allocates nothing); a stage that replaces
    /// <see cref="HttpContext.User"/> gets a fresh id.
    /// </remarks>
    public static string? GetCallerId(this HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var user = PeekUser(context);
        if (user is null)
        {
            return null;
        }

        // Checked before ClaimsPrincipal.Identity, whose primary-identity selection allocates an enumerator.
        var features = context.Features;
        if (features.Get<CallerIdFeature>() is { } cached && ReferenceEquals(cached.User, user))
        {
            return cached.Id;
        }

        var id = user.Identity is ClaimsIdentity { IsAuthenticated: true } identity ? AiEdgeCallerIds.From(identity) : null;
        features.Set(new CallerIdFeature(user, id));
        return id;
    }

    /// <summary>
    /// Gets the name of the AiEdge API key the caller authenticated with, or <see langword="null"/>. Only an identity
    /// made by the AiEdge API key scheme counts: an <c>aiedge:api_key</c> claim inside a JWT or another scheme's
    /// identity is not an API key.
    /// </summary>
    /// <param name="context">The request.</param>
    /// <returns>The API key's configured name, or <see langword="null"/>.</returns>
    public static string? GetCallerApiKeyName(this HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return PeekUser(context)?.Identity is ClaimsIdentity { IsAuthenticated: true } identity ? AiEdgeCallerIds.FindApiKeyName(identity) : null;
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
        => context is DefaultHttpContext ? RequestFeatures.Get<IHttpAuthenticationFeature>(context)?.User : context.User;

    /// <summary>The caller id computed for one principal of one request.</summary>
    private sealed class CallerIdFeature(ClaimsPrincipal user, string? id)
    {
        public ClaimsPrincipal User { get; } = user;

        public string? Id { get; } = id;
    }
}
