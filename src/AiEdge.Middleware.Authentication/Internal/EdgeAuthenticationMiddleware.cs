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
/// <remarks>
/// Coexists with the app's own authentication: AiEdge's schemes are asked first, then the app's default scheme;
/// the first success is the caller, so a failure of one scheme never masks another's success. Scopes and plans are
/// read from whichever scheme authenticated the caller.
/// </remarks>
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
        var endpoint = RequestFeatures.Endpoint(context);
        IReadOnlyList<ICallerRequirementMetadata>? requirements = null;
        var required = false;
        if (endpoint is not null && endpoint.Metadata.GetMetadata<IAllowAnonymous>() is null)
        {
            requirements = endpoint.Metadata.GetOrderedMetadata<ICallerRequirementMetadata>();
            required = requirements.Count > 0 || _requireAll;
        }

        if (required || settings.HasCredentials(context.Request))
        {
            return InvokeAuthenticatingAsync(context, required, requirements);
        }

        // Authenticated by the app's UseAuthentication() before the edge (a cookie, say): its plan still counts. The
        // feature (not context.User.Identity, which allocates) keeps anonymous requests free of allocations.
        if (RequestFeatures.Get<IAuthenticateResultFeature>(context)?.AuthenticateResult is { Succeeded: true } authenticated
            && authenticated.Principal.Identity is ClaimsIdentity identity
            && !IsEdgeIdentity(identity))
        {
            settings.AddPlan(authenticated.Principal);
        }

        return next(context);
    }

    private async Task InvokeAuthenticatingAsync(HttpContext context, bool required, IReadOnlyList<ICallerRequirementMetadata>? requirements)
    {
        var result = await context.AuthenticateAsync(EdgeAuthenticationDefaults.AuthenticationScheme).ConfigureAwait(false);
        if (!result.Succeeded && settings.AppDefaultScheme is { } appScheme)
        {
            // The app's scheme (cached per request by its handler, so asking again after its UseAuthentication() is free).
            var app = await context.AuthenticateAsync(appScheme).ConfigureAwait(false);
            if (app.Succeeded || (result.None && app.Failure is not null && required))
            {
                result = app;
            }
        }

        if (result.Succeeded)
        {
            // As ASP.NET Core's AuthenticationMiddleware does: [Authorize] then reuses this result.
            if (result.Principal.Identity is not ClaimsIdentity identity || !IsEdgeIdentity(identity))
            {
                settings.AddPlan(result.Principal);
            }

            context.User = result.Principal;
            var features = new AuthenticatedFeatures(result);
            RequestFeatures.Set<IHttpAuthenticationFeature>(context, features);
            RequestFeatures.Set<IAuthenticateResultFeature>(context, features);
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

            var missing = FindMissingScopes(context.User, requirements);
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
    private string? FindMissingScopes(ClaimsPrincipal user, IReadOnlyList<ICallerRequirementMetadata>? requirements)
    {
        if (requirements is null)
        {
            return null;
        }

        for (var i = 0; i < requirements.Count; i++)
        {
            var scopes = requirements[i].Scopes;
            for (var j = 0; j < scopes.Count; j++)
            {
                if (!settings.HasScope(user, scopes[j]))
                {
                    return requirements[i] is RequireScopesAttribute attribute ? attribute.ScopeParameter : string.Join(' ', scopes);
                }
            }
        }

        return null;
    }

    private static bool IsEdgeIdentity(ClaimsIdentity identity)
        => identity.AuthenticationType is { } type && AuthenticationSettings.IsEdgeScheme(type);

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
