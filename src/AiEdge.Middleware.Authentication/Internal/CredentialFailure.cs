namespace AiEdge.Middleware.Authentication.Internal;

/// <summary>
/// Why presented credentials were refused. Carried by <c>AuthenticateResult.Fail</c> and never thrown; one shared
/// instance per reason, so refusing allocates nothing. Every text is fixed: nothing the client sent is echoed.
/// </summary>
internal sealed class CredentialFailure : Exception
{
    private CredentialFailure(string reason, int statusCode, string error, string description)
        : base(description)
    {
        Reason = reason;
        StatusCode = statusCode;
        Error = error;
        Description = description;
        Challenge = $"Bearer error=\"{error}\", error_description=\"{description}\"";
    }

    /// <summary>The bounded reason reported to metrics and logs.</summary>
    public string Reason { get; }

    /// <summary>400 for a malformed request, 401 for credentials that are not valid.</summary>
    public int StatusCode { get; }

    /// <summary>The RFC 6750 error code: <c>invalid_request</c> or <c>invalid_token</c>.</summary>
    public string Error { get; }

    /// <summary>A fixed human-readable explanation.</summary>
    public string Description { get; }

    /// <summary>The <c>WWW-Authenticate</c> value sent with the refusal.</summary>
    public string Challenge { get; }

    public static readonly CredentialFailure MalformedAuthorization = Request("malformed_authorization", "The Authorization header is malformed: expected 'Bearer <token>' with a single space and token characters only.");
    public static readonly CredentialFailure MalformedApiKey = Request("malformed_api_key", "The API key header is empty or contains characters an API key cannot contain.");
    public static readonly CredentialFailure DuplicateHeader = Request("duplicate_header", "The request carries the Authorization or API key header more than once.");
    public static readonly CredentialFailure MultipleCredentials = Request("multiple_credentials", "The request carries both an API key header and a bearer token; send exactly one.");

    public static readonly CredentialFailure InvalidApiKey = Token("invalid_api_key", "The API key is not valid.");
    public static readonly CredentialFailure TokenTooLarge = Token("token_too_large", "The token is larger than accepted.");
    public static readonly CredentialFailure MalformedToken = Token("malformed_token", "The token is not a well-formed signed JWT.");
    public static readonly CredentialFailure TokenExpired = Token("token_expired", "The token is expired.");
    public static readonly CredentialFailure TokenNotYetValid = Token("token_not_yet_valid", "The token is not valid yet.");
    public static readonly CredentialFailure TokenWithoutExpiration = Token("token_without_expiration", "The token has no expiration time.");
    public static readonly CredentialFailure InvalidIssuer = Token("invalid_issuer", "The token's issuer is not accepted.");
    public static readonly CredentialFailure InvalidAudience = Token("invalid_audience", "The token's audience is not accepted.");
    public static readonly CredentialFailure InvalidAlgorithm = Token("invalid_algorithm", "The token's signature algorithm is not accepted.");
    public static readonly CredentialFailure InvalidSignature = Token("invalid_signature", "The token's signature is not valid.");
    public static readonly CredentialFailure UnsignedToken = Token("unsigned_token", "The token is not signed.");
    public static readonly CredentialFailure InvalidToken = Token("invalid_token", "The token is not valid.");

    private static CredentialFailure Request(string reason, string description) => new(reason, 400, "invalid_request", description);

    private static CredentialFailure Token(string reason, string description) => new(reason, 401, "invalid_token", description);
}
