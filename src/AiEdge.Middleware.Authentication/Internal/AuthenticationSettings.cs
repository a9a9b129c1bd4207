using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace AiEdge.Middleware.Authentication.Internal;

/// <summary>The validated options turned once into lookups: the API-key store, the JWT validator, and which scheme reads a request.</summary>
internal sealed class AuthenticationSettings
{
    public AuthenticationSettings(IOptions<EdgeAuthenticationOptions> options, TimeProvider time)
    {
        var value = options.Value;
        RequireAuthenticatedCaller = value.RequireAuthenticatedCaller;
        RejectInvalidCredentials = value.RejectInvalidCredentials;
        ApiKeys = new ApiKeyStore(value.ApiKeys);
        ApiKeysEnabled = ApiKeys.Count > 0;
        ApiKeyHeader = ApiKeysEnabled ? value.ApiKeys.HeaderName : null;
        ApiKeysAcceptBearer = ApiKeysEnabled && value.ApiKeys.AcceptBearer;
        JwtEnabled = value.Jwt.SigningKeys.Count > 0;
        Jwt = JwtEnabled ? new JwtValidator(value.Jwt, time) : null;
        ReadsAuthorization = JwtEnabled || ApiKeysAcceptBearer;
    }

    public bool RequireAuthenticatedCaller { get; }

    public bool RejectInvalidCredentials { get; }

    public ApiKeyStore ApiKeys { get; }

    public bool ApiKeysEnabled { get; }

    /// <summary>The API key header, or <see langword="null"/> when no API keys are configured (the header is then ignored).</summary>
    public string? ApiKeyHeader { get; }

    public bool ApiKeysAcceptBearer { get; }

    public bool JwtEnabled { get; }

    public JwtValidator? Jwt { get; }

    public bool ReadsAuthorization { get; }

    /// <summary>Gets whether the request carries a header this package reads (cheap: two header lookups).</summary>
    public bool HasCredentials(HttpRequest request)
        => (ReadsAuthorization && request.Headers.Authorization.Count > 0)
        || (ApiKeyHeader is not null && request.Headers.ContainsKey(ApiKeyHeader));

    public Credential Read(HttpRequest request)
    {
        var credential = CredentialReader.Read(request, ApiKeyHeader);
        return credential.Kind == CredentialKind.Bearer && !ReadsAuthorization ? new Credential(CredentialKind.Foreign) : credential;
    }

    /// <summary>Picks the scheme that judges the request: API keys for the key header, JWT for JWT-shaped bearer tokens.</summary>
    public string SelectScheme(HttpRequest request)
    {
        var credential = Read(request);
        return credential.Kind switch
        {
            CredentialKind.ApiKey => EdgeAuthenticationDefaults.ApiKeyScheme,
            CredentialKind.Bearer when JwtEnabled && (!ApiKeysAcceptBearer || LooksLikeJwt(credential.Value)) => EdgeAuthenticationDefaults.JwtBearerScheme,
            CredentialKind.Bearer => EdgeAuthenticationDefaults.ApiKeyScheme,
            _ => JwtEnabled ? EdgeAuthenticationDefaults.JwtBearerScheme : EdgeAuthenticationDefaults.ApiKeyScheme,
        };
    }

    /// <summary>A compact JWS has exactly three dot-separated parts.</summary>
    internal static bool LooksLikeJwt(ReadOnlySpan<char> token) => token.Count('.') == 2;
}
