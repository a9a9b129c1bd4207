using System.Globalization;
using System.Security.Claims;

namespace AiEdge.Middleware;

/// <summary>
/// Builds caller ids: strings that name an authenticated identity together with the source it came from (an API
/// key, a JWT issuer, the app's own authentication scheme), so that no value a client controls in one source can
/// spell an id of another source or of another issuer. Cache tenancy, idempotency scope and rate-limit partitions
/// all key on these ids.
/// </summary>
/// <remarks>
/// <para>The grammar, with every length counted in UTF-16 code units and written in decimal without leading zeros:</para>
/// <code>
/// id    = "key" last                 an API key, by its configured name         key:pro-app
///       | "jwt:" field last          a JWT, by issuer then subject              jwt:22:https://issuer.example:user-42
///       | "app:" field field last    the app's scheme: type, issuer, subject    app:7:Cookies15:LOCAL AUTHORITY:alice
///       | "clm:" field last          a claim value, by issuer then value        clm:22:https://issuer.example:acme
/// field = length (":" text | "!" hex)
/// last  = ":" text | "!" hex
/// </code>
/// <para>
/// <c>text</c> is the value itself when it is well-formed UTF-16; a value holding an unpaired surrogate is written
/// as <c>hex</c>, four uppercase hexadecimal digits per UTF-16 code unit, so every id is well-formed and its UTF-8
/// form (what Redis keys and hashes see) is as unambiguous as the string.
/// </para>
/// <para>
/// Why two different inputs never give one id: the first three characters name the source and differ between
/// sources. A field starts with its length's digits, which end at the first <c>:</c> or <c>!</c> (a digit is neither),
/// and that mark says how the value was written; exactly <c>length</c> characters follow, so the next part starts at
/// a known place whatever the value holds (colons, digits, NULs, any Unicode). The last part runs to the end of the
/// string. Each part therefore reads back to one (mark, written form) pair, and both written forms are one-to-one
/// (the value itself, or its code units in fixed-width hex), so the parts read back to the original values.
/// </para>
/// </remarks>
public static class AiEdgeCallerIds
{
    private const string ApiKeyTag = "key";
    private const string JwtTag = "jwt:";
    private const string SchemeTag = "app:";
    private const string ClaimTag = "clm:";

    /// <summary>The caller id of an API key.</summary>
    /// <param name="name">The key's configured name.</param>
    /// <returns><c>key:</c> and the name (see the remarks of <see cref="AiEdgeCallerIds"/>).</returns>
    public static string ApiKey(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return Compose(ApiKeyTag, null, null, name);
    }

    /// <summary>The caller id of a JWT's subject.</summary>
    /// <param name="issuer">The token's <c>iss</c>.</param>
    /// <param name="subject">The token's <c>sub</c>.</param>
    /// <returns><c>jwt:</c>, the length-prefixed issuer and the subject.</returns>
    public static string Jwt(string issuer, string subject)
    {
        ArgumentNullException.ThrowIfNull(issuer);
        ArgumentNullException.ThrowIfNull(subject);
        return Compose(JwtTag, null, issuer, subject);
    }

    /// <summary>The caller id of an identity from any other authentication scheme (the app's own).</summary>
    /// <param name="authenticationType">The identity's <see cref="ClaimsIdentity.AuthenticationType"/>.</param>
    /// <param name="issuer">The issuer of the claim that names the caller.</param>
    /// <param name="subject">The value of the claim that names the caller.</param>
    /// <returns><c>app:</c>, the length-prefixed authentication type and issuer, and the subject.</returns>
    public static string Scheme(string authenticationType, string issuer, string subject)
    {
        ArgumentNullException.ThrowIfNull(authenticationType);
        ArgumentNullException.ThrowIfNull(issuer);
        ArgumentNullException.ThrowIfNull(subject);
        return Compose(SchemeTag, authenticationType, issuer, subject);
    }

    /// <summary>A claim value qualified by the claim's issuer, as rate-limit partitions by claim use it.</summary>
    /// <param name="issuer">The claim's <see cref="System.Security.Claims.Claim.Issuer"/>.</param>
    /// <param name="value">The claim's value.</param>
    /// <returns><c>clm:</c>, the length-prefixed issuer and the value.</returns>
    public static string Claim(string issuer, string value)
    {
        ArgumentNullException.ThrowIfNull(issuer);
        ArgumentNullException.ThrowIfNull(value);
        return Compose(ClaimTag, null, issuer, value);
    }

    /// <summary>
    /// The caller id of an authenticated identity: an AiEdge API key identity (its <c>aiedge:api_key</c> claim issued
    /// by <see cref="AiEdgeAuthenticationTypes.ApiKey"/>) by key name; an AiEdge JWT identity by its <c>sub</c> and
    /// that claim's issuer (the token's <c>iss</c>); any other identity by its authentication type and the issuer and
    /// value of its name-identifier claim, else <c>sub</c>, else its name claim.
    /// </summary>
    /// <param name="identity">The identity.</param>
    /// <returns>The caller id, or <see langword="null"/> when the identity is anonymous or names no caller.</returns>
    /// <remarks>
    /// Claims a JWT carries never count as an API key: an <c>aiedge:api_key</c> claim counts only on an identity of
    /// type <see cref="AiEdgeAuthenticationTypes.ApiKey"/> and only when issued by that name, which no token can be.
    /// </remarks>
    public static string? From(ClaimsIdentity identity)
    {
        ArgumentNullException.ThrowIfNull(identity);
        if (!identity.IsAuthenticated)
        {
            return null;
        }

        var type = identity.AuthenticationType!;
        if (string.Equals(type, AiEdgeAuthenticationTypes.ApiKey, StringComparison.Ordinal) && FindApiKeyName(identity) is { } name)
        {
            return ApiKey(name);
        }

        if (string.Equals(type, AiEdgeAuthenticationTypes.JwtBearer, StringComparison.Ordinal))
        {
            return identity.FindFirst("sub") is { } subject ? Jwt(subject.Issuer, subject.Value) : null;
        }

        var claim = identity.FindFirst(ClaimTypes.NameIdentifier) ?? identity.FindFirst("sub") ?? identity.FindFirst(identity.NameClaimType);
        return claim is null ? null : Scheme(type, claim.Issuer, claim.Value);
    }

    /// <summary>The name of the API key an identity was made from, or <see langword="null"/> when it was not made from one.</summary>
    internal static string? FindApiKeyName(ClaimsIdentity identity)
    {
        if (!identity.IsAuthenticated || !string.Equals(identity.AuthenticationType, AiEdgeAuthenticationTypes.ApiKey, StringComparison.Ordinal))
        {
            return null;
        }

        foreach (var claim in identity.Claims)
        {
            if (string.Equals(claim.Type, AiEdgeClaimTypes.ApiKeyName, StringComparison.Ordinal)
                && string.Equals(claim.Issuer, AiEdgeAuthenticationTypes.ApiKey, StringComparison.Ordinal))
            {
                return claim.Value;
            }
        }

        return null;
    }

    private static string Compose(string tag, string? first, string? second, string last)
    {
        var parts = new Parts(tag, first, second, last);
        var length = tag.Length + PartLength(first, parts.FirstHex, prefixed: true) + PartLength(second, parts.SecondHex, prefixed: true) + PartLength(last, parts.LastHex, prefixed: false);
        return string.Create(length, parts, static (span, parts) =>
        {
            parts.Tag.CopyTo(span);
            var at = parts.Tag.Length;
            at += Write(span[at..], parts.First, parts.FirstHex, prefixed: true);
            at += Write(span[at..], parts.Second, parts.SecondHex, prefixed: true);
            Write(span[at..], parts.Last, parts.LastHex, prefixed: false);
        });
    }

    private static int Write(Span<char> span, string? value, bool hex, bool prefixed)
    {
        if (value is null)
        {
            return 0;
        }

        var length = hex ? value.Length * 4 : value.Length;
        var at = 0;
        if (prefixed)
        {
            length.TryFormat(span, out at, default, CultureInfo.InvariantCulture);
        }

        span[at++] = hex ? '!' : ':';
        if (!hex)
        {
            value.CopyTo(span[at..]);
            return at + value.Length;
        }

        foreach (var unit in value)
        {
            ((int)unit).TryFormat(span[at..], out _, "X4", CultureInfo.InvariantCulture);
            at += 4;
        }

        return at;
    }

    /// <summary>Whether every surrogate in <paramref name="value"/> is part of a pair.</summary>
    internal static bool IsWellFormed(ReadOnlySpan<char> value)
    {
        var i = value.IndexOfAnyInRange('\uD800', '\uDFFF');
        if (i < 0)
        {
            return true;
        }

        for (; i < value.Length; i++)
        {
            var unit = value[i];
            if (char.IsHighSurrogate(unit) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(unit))
            {
                return false;
            }
        }

        return true;
    }

    private static int PartLength(string? value, bool hex, bool prefixed)
    {
        if (value is null)
        {
            return 0;
        }

        var length = hex ? value.Length * 4 : value.Length;
        return (prefixed ? DigitCount(length) : 0) + 1 + length;
    }

    private static int DigitCount(int value)
    {
        var count = 1;
        while (value >= 10)
        {
            value /= 10;
            count++;
        }

        return count;
    }

    private readonly struct Parts(string tag, string? first, string? second, string last)
    {
        public string Tag { get; } = tag;

        public string? First { get; } = first;

        public string? Second { get; } = second;

        public string Last { get; } = last;

        public bool FirstHex { get; } = first is not null && !IsWellFormed(first);

        public bool SecondHex { get; } = second is not null && !IsWellFormed(second);

        public bool LastHex { get; } = !IsWellFormed(last);
    }
}
