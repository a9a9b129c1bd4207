using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace AiEdge.Middleware.Authentication.Internal;

/// <summary>The 400, 401 and 403 answers of AiEdge authentication: RFC 6750 <c>WWW-Authenticate</c> and RFC 9457 problem details.</summary>
internal static class AuthenticationAnswers
{
    private const string BareChallenge = "Bearer";
    private const string MissingDetail = "This endpoint requires an API key or a bearer token.";
    private const string ScopeDescription = "The caller lacks a scope this endpoint requires.";

    /// <summary>Answers 401 (no or invalid credentials) or 400 (malformed credentials).</summary>
    public static Task ChallengeAsync(HttpContext context, CredentialFailure? failure)
    {
        if (context.Response.HasStarted)
        {
            return Task.CompletedTask;
        }

        context.Response.Headers[HeaderNames.WWWAuthenticate] = failure?.Challenge ?? BareChallenge;
        context.Response.Headers.CacheControl = "no-store";
        return failure is null
            ? AiEdgeProblems.WriteAsync(context, StatusCodes.Status401Unauthorized, "Unauthorized", MissingDetail)
            : AiEdgeProblems.WriteAsync(
                context,
                failure.StatusCode,
                failure.StatusCode == StatusCodes.Status400BadRequest ? "Bad Request" : "Unauthorized",
                failure.Description,
                extensions: [new("error", failure.Error)]);
    }

    /// <summary>Answers 403 <c>insufficient_scope</c>, naming the scopes the endpoint requires (configured values, never client input).</summary>
    public static Task ForbidAsync(HttpContext context, string? requiredScopes)
    {
        if (context.Response.HasStarted)
        {
            return Task.CompletedTask;
        }

        context.Response.Headers[HeaderNames.WWWAuthenticate] = requiredScopes is null
            ? $"Bearer error=\"insufficient_scope\", error_description=\"{ScopeDescription}\""
            : $"Bearer error=\"insufficient_scope\", error_description=\"{ScopeDescription}\", scope=\"{requiredScopes}\"";
        context.Response.Headers.CacheControl = "no-store";
        return AiEdgeProblems.WriteAsync(
            context,
            StatusCodes.Status403Forbidden,
            "Forbidden",
            ScopeDescription,
            extensions: requiredScopes is null ? [new("error", "insufficient_scope")] : [new("error", "insufficient_scope"), new("required_scopes", requiredScopes.Split(' '))]);
    }
}
