using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AiEdge.Middleware.Authentication.Internal;

/// <summary>Shared challenge and forbid answers, so <c>[Authorize]</c> with these schemes answers like the AiEdge middleware.</summary>
internal abstract class EdgeAuthenticationHandlerBase(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, AuthenticationSettings settings)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    protected AuthenticationSettings Settings { get; } = settings;

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var result = await HandleAuthenticateOnceSafeAsync().ConfigureAwait(false);
        await AuthenticationAnswers.ChallengeAsync(Context, result.Failure as CredentialFailure).ConfigureAwait(false);
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties)
        => AuthenticationAnswers.ForbidAsync(Context, null);
}

/// <summary>API keys from the API key header or <c>Authorization: Bearer</c>, looked up by hash.</summary>
internal sealed class ApiKeyAuthenticationHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, AuthenticationSettings settings)
    : EdgeAuthenticationHandlerBase(options, logger, encoder, settings)
{
    private static readonly Task<AuthenticateResult> NoResult = Task.FromResult(AuthenticateResult.NoResult());

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!Settings.ApiKeysEnabled)
        {
            return NoResult;
        }

        var credential = Settings.Read(Request);
        switch (credential.Kind)
        {
            case CredentialKind.Malformed:
                return Task.FromResult(AuthenticateResult.Fail(credential.Failure!));
            case CredentialKind.ApiKey:
            case CredentialKind.Bearer when Settings.ApiKeysAcceptBearer:
                return Task.FromResult(Settings.ApiKeys.TryFind(credential.Value, out var record)
                    ? AuthenticateResult.Success(new AuthenticationTicket(record!.CreatePrincipal(), Scheme.Name))
                    : AuthenticateResult.Fail(CredentialFailure.InvalidApiKey));
            default:
                return NoResult;
        }
    }
}

/// <summary>JWT bearer tokens validated by <see cref="JwtValidator"/>.</summary>
internal sealed class JwtBearerAuthenticationHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, AuthenticationSettings settings)
    : EdgeAuthenticationHandlerBase(options, logger, encoder, settings)
{
    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (Settings.Jwt is not { } jwt)
        {
            return AuthenticateResult.NoResult();
        }

        var credential = Settings.Read(Request);
        switch (credential.Kind)
        {
            case CredentialKind.Malformed:
                return AuthenticateResult.Fail(credential.Failure!);
            case CredentialKind.Bearer when credential.Value.Length > jwt.MaxTokenLength:
                return AuthenticateResult.Fail(CredentialFailure.TokenTooLarge);
            case CredentialKind.Bearer:
                var (principal, failure) = await jwt.ValidateAsync(credential.ValueString()).ConfigureAwait(false);
                return principal is null
                    ? AuthenticateResult.Fail(failure!)
                    : AuthenticateResult.Success(new AuthenticationTicket(principal, Scheme.Name));
            default:
                return AuthenticateResult.NoResult();
        }
    }
}
