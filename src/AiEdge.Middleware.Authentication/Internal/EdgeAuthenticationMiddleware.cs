using System.Security.Claims;
using AiEdge.Middleware.Internal;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features.Authentication;
using Microsoft.Extensions.Logging;

namespace AiEdge.Middleware.Authentication.Internal;

/// <summary>
/// Authenticates callers that present credentials (so rate limiting and caching see their identity and plan),
/// and enforces per-endpoint caller requirements: 401 without valid credentials, 403 without the scopes.
/// Requests that present nothing to endpoints that require nothing pass straight through.
/// </summary>
internal sealed partial class EdgeAuthenticationMiddleware(
    RequestDelegate next,
    AuthenticationSettings settings,
    AuthenticationMetrics metrics,
    ILogger<EdgeAuthenticationMiddleware> logger)
{
    private const string Concern = "authentication";
    private const string MissingCredentials = "missing_credentials";
    private const string InsufficientScope = "insufficient_scope";

    private readonly bool _requireAll = settings.RequireAuthenticatedCaller;
    private readonly bool _rejectInvalid = settings.RejectInvalidCredentials;

    public Task InvokeAsync(HttpContext context)
    {
        var endpoint = context.GetEndpoint();
        IReadOnlyList<ICallerRequirementMetadata>? requirements = null;
        var required = false;
        if (endpoint is not null && endpoint.Metadata.GetMetadata<IAllowAnonymous>() is null)
        {
            requirements = endpoint.Metadata.GetOrderedMetadata<ICallerRequirementMetadata>();
            required = requirements.Count > 0 || _requireAll;
        }

        return !required && !settings.HasCredentials(context.Request)
            ? next(context)
            : InvokeAuthenticatingAsync(context, required, requirements);
    }

    private async Task InvokeAuthenticatingAsync(HttpContext context, bool required, IReadOnlyList<ICallerRequirementMetadata>? requirements)
    {
        var result = await context.AuthenticateAsync(EdgeAuthenticationDefaults.AuthenticationScheme).ConfigureAwait(false);
        if (result.Succeeded)
        {
            // As ASP.NET Core's AuthenticationMiddleware does: [Authorize] then reuses this result.
            context.User = result.Principal;
            var features = new AuthenticatedFeatures(result);
            context.Features.Set<IHttpAuthenticationFeature>(features);
            context.Features.Set<IAuthenticateResultFeature>(features);
        }
        else if (result.Failure is not null && (required || _rejectInvalid))
        {
            var failure = result.Failure as CredentialFailure ?? CredentialFailure.InvalidToken;
            metrics.Rejected(Concern, failure.Reason);
            Log.CredentialsRefused(logger, failure.Reason);
            await AuthenticationAnswers.ChallengeAsync(context, failure).ConfigureAwait(false);
            return;
        }

        if (required)
        {
            if (!result.Succeeded)
            {
                metrics.Rejected(Concern, MissingCredentials);
                Log.CredentialsRefused(logger, MissingCredentials);
                await AuthenticationAnswers.ChallengeAsync(context, null).ConfigureAwait(false);
                return;
            }

            var missing = FindMissingScopes(context, requirements);
            if (missing is not null)
            {
                metrics.Rejected(Concern, InsufficientScope);
                Log.ScopeMissing(logger);
                await AuthenticationAnswers.ForbidAsync(context, missing).ConfigureAwait(false);
                return;
            }
        }

        await next(context).ConfigureAwait(false);
    }

    /// <summary>Returns the scopes of the first requirement the caller does not meet, or <see langword="null"/>.</summary>
    private static string? FindMissingScopes(HttpContext context, IReadOnlyList<ICallerRequirementMetadata>? requirements)
    {
        if (requirements is null)
        {
            return null;
        }

        var user = context.User;
        for (var i = 0; i < requirements.Count; i++)
        {
            var scopes = requirements[i].Scopes;
            for (var j = 0; j < scopes.Count; j++)
            {
                if (!user.HasClaim(AiEdgeClaimTypes.Scope, scopes[j]))
                {
                    return requirements[i] is RequireScopesAttribute attribute ? attribute.ScopeParameter : string.Join(' ', scopes);
                }
            }
        }

        return null;
    }

    private static partial class Log
    {
        [LoggerMessage(1401, LogLevel.Debug, "Request refused by authentication: {Reason}.", EventName = "CredentialsRefused")]
        public static partial void CredentialsRefused(ILogger logger, string reason);

        [LoggerMessage(1402, LogLevel.Debug, "Request refused by authentication: the caller lacks a required scope.", EventName = "ScopeMissing")]
        public static partial void ScopeMissing(ILogger logger);
    }

    /// <summary>The authenticated caller, as the features ASP.NET Core's authentication middleware sets.</summary>
    private sealed class AuthenticatedFeatures(AuthenticateResult result) : IHttpAuthenticationFeature, IAuthenticateResultFeature
    {
        private AuthenticateResult? _result = result;
        private ClaimsPrincipal? _user = result.Principal;

        public AuthenticateResult? AuthenticateResult
        {
            get => _result;
            set
            {
                _result = value;
                _user = value?.Principal;
            }
        }

        public ClaimsPrincipal? User
        {
            get => _user;
            set
            {
                _user = value;
                _result = null;
            }
        }
    }
}
