using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace AiEdge.Middleware.Authentication.Internal;

/// <summary>What a request presents as credentials.</summary>
internal enum CredentialKind
{
    /// <summary>Nothing this package reads.</summary>
    None,

    /// <summary>An API key in the API key header.</summary>
    ApiKey,

    /// <summary>An <c>Authorization: Bearer</c> token.</summary>
    Bearer,

    /// <summary>An <c>Authorization</c> header of another scheme (Basic, Digest, ...): not ours to judge.</summary>
    Foreign,

    /// <summary>Credentials that cannot be read; <see cref="Credential.Failure"/> says why.</summary>
    Malformed,
}

/// <summary>The credential of a request; <see cref="Value"/> is a slice of the header value, so reading allocates nothing.</summary>
internal readonly struct Credential(CredentialKind kind, string? source = null, int start = 0, CredentialFailure? failure = null)
{
    public CredentialKind Kind { get; } = kind;

    public CredentialFailure? Failure { get; } = failure;

    public ReadOnlySpan<char> Value => Source is null ? default : Source.AsSpan(Start);

    public string? Source { get; } = source;

    public int Start { get; } = start;

    /// <summary>Gets the token as a string (allocates unless it is the whole header value).</summary>
    public string ValueString() => Start == 0 ? Source ?? string.Empty : Source!.Substring(Start);
}

/// <summary>Reads API-key and bearer credentials from request headers, strictly (RFC 6750 / RFC 9110 syntax).</summary>
internal static class CredentialReader
{
    private const string BearerPrefix = "Bearer ";

    public static Credential Read(HttpRequest request, string? apiKeyHeader)
    {
        var authorization = request.Headers.Authorization;
        var apiKey = apiKeyHeader is null ? StringValues.Empty : request.Headers[apiKeyHeader];
        if (authorization.Count > 1 || apiKey.Count > 1)
        {
            return new Credential(CredentialKind.Malformed, failure: CredentialFailure.DuplicateHeader);
        }

        var fromAuthorization = authorization.Count == 1 ? ReadAuthorization(authorization[0]) : new Credential(CredentialKind.None);
        if (apiKey.Count == 0)
        {
            return fromAuthorization;
        }

        if (fromAuthorization.Kind is CredentialKind.Bearer or CredentialKind.Malformed)
        {
            return new Credential(CredentialKind.Malformed, failure: CredentialFailure.MultipleCredentials);
        }

        var key = apiKey[0];
        return string.IsNullOrEmpty(key) || !IsVisibleAscii(key)
            ? new Credential(CredentialKind.Malformed, failure: CredentialFailure.MalformedApiKey)
            : new Credential(CredentialKind.ApiKey, key);
    }

    private static Credential ReadAuthorization(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return new Credential(CredentialKind.Malformed, failure: CredentialFailure.MalformedAuthorization);
        }

        if (!value.StartsWith(BearerPrefix, StringComparison.OrdinalIgnoreCase))
        {
            // "Bearer" alone, or "Bearer\t..." : our scheme without a readable token.
            if (value.AsSpan().TrimEnd().Equals("Bearer", StringComparison.OrdinalIgnoreCase)
                || (value.Length > 6 && value.AsSpan(0, 6).Equals("Bearer", StringComparison.OrdinalIgnoreCase) && !IsTokenChar(value[6])))
            {
                return new Credential(CredentialKind.Malformed, failure: CredentialFailure.MalformedAuthorization);
            }

            return IsVisibleAsciiOrSpace(value)
                ? new Credential(CredentialKind.Foreign)
                : new Credential(CredentialKind.Malformed, failure: CredentialFailure.MalformedAuthorization);
        }

        return IsToken68(value.AsSpan(BearerPrefix.Length))
            ? new Credential(CredentialKind.Bearer, value, BearerPrefix.Length)
            : new Credential(CredentialKind.Malformed, failure: CredentialFailure.MalformedAuthorization);
    }

    /// <summary>RFC 9110 token68: 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=".</summary>
    internal static bool IsToken68(ReadOnlySpan<char> value)
    {
        var i = 0;
        while (i < value.Length && IsToken68Char(value[i]))
        {
            i++;
        }

        if (i == 0)
        {
            return false;
        }

        while (i < value.Length && value[i] == '=')
        {
            i++;
        }

        return i == value.Length;
    }

    private static bool IsToken68Char(char c)
        => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_' or '~' or '+' or '/';

    private static bool IsTokenChar(char c)
        => char.IsAsciiLetterOrDigit(c) || c is '!' or '#' or '$' or '%' or '&' or '\'' or '*' or '+' or '-' or '.' or '^' or '_' or '`' or '|' or '~';

    private static bool IsVisibleAscii(string value)
    {
        foreach (var c in value)
        {
            if (c is < (char)0x21 or > (char)0x7E)
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsVisibleAsciiOrSpace(string value)
    {
        foreach (var c in value)
        {
            if (c is < (char)0x20 or > (char)0x7E)
            {
                return false;
            }
        }

        return true;
    }
}
