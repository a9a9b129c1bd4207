using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AiEdge.Middleware.Authentication.Internal;

/// <summary>
/// API keys from the API key header or <c>Authorization: Bearer</c>, looked up by hash. Coexists with any other
/// scheme: a JWT-shaped bearer value that is not a known key is left to the schemes that can validate it.
/// </summary>
internal sealed class ApiKeyAuthenticationHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, AuthenticationSettings settings)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    private static readonly Task<AuthenticateResult> NoResult = Task.FromResult(AuthenticateResult.NoResult());

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!settings.ApiKeysEnabled)
        {
            return NoResult;
        }

        var credential = settings.Read(Request);
        switch (credential.Kind)
        {
            case CredentialKind.Malformed:
                return Task.FromResult(AuthenticateResult.Fail(credential.Failure!));
            case CredentialKind.ApiKey:
                return Task.FromResult(Find(credential.Value));
            case CredentialKind.Bearer when settings.ApiKeysAcceptBearer:
                if (settings.ApiKeys.TryFind(credential.Value, out var record))
                {
                    return Task.FromResult(Success(record!));
                }

                return settings.ApiKeysClaimEveryBearer || !AuthenticationSettings.LooksLikeJwt(credential.Value)
                    ? Task.FromResult(AuthenticateResult.Fail(CredentialFailure.InvalidApiKey))
                    : NoResult;
            default:
                return NoResult;
        }
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var result = await HandleAuthenticateOnceSafeAsync().ConfigureAwait(false);
        await AuthenticationAnswers.ChallengeAsync(Context, result.Failure as CredentialFailure).ConfigureAwait(false);
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties)
        => AuthenticationAnswers.ForbidAsync(Context, null);

    private AuthenticateResult Find(ReadOnlySpan<char> key)
        => settings.ApiKeys.TryFind(key, out var record) ? Success(record!) : AuthenticateResult.Fail(CredentialFailure.InvalidApiKey);

    private AuthenticateResult Success(ApiKeyRecord record)
        => AuthenticateResult.Success(new AuthenticationTicket(record.CreatePrincipal(), Scheme.Name));
}
