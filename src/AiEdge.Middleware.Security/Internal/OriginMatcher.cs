namespace AiEdge.Middleware.Security.Internal;

/// <summary>
/// Decides whether an <c>Origin</c> is allowed: exact origins through one hash lookup of the serialized origin
/// (scheme, host and port as browsers send them), and <c>scheme://*.domain[:port]</c> patterns by a span-based
/// suffix match on a label boundary, so <c>https://app.example.com.evil.net</c> never matches <c>*.example.com</c>.
/// </summary>
internal sealed class OriginMatcher
{
    private readonly HashSet<string> _exact = new(StringComparer.OrdinalIgnoreCase);
    private readonly Pattern[] _patterns;

    public OriginMatcher(IEnumerable<string> origins)
    {
        var patterns = new List<Pattern>();
        foreach (var origin in origins)
        {
            switch (Classify(origin, out var canonical, out var pattern))
            {
                case OriginKind.Exact:
                    _exact.Add(canonical!);
                    break;
                case OriginKind.Pattern:
                    patterns.Add(pattern!);
                    break;
                case OriginKind.Any:
                    AllowsAny = true;
                    break;
            }
        }

        _patterns = [.. patterns];
    }

    /// <summary>Gets whether every origin is allowed (<c>*</c>).</summary>
    public bool AllowsAny { get; }

    /// <summary>
    /// Gets whether a request's <c>Origin</c> is allowed. The origin is compared in its normalized form (scheme and
    /// host lowercase, the scheme's default port removed), so <c>https://App.example.com:443</c> matches a configured
    /// <c>https://app.example.com</c>. Anything that is not a serialized origin (userinfo, a path, a query, a fragment,
    /// a trailing dot, a malformed label, non-ASCII) is refused.
    /// </summary>
    public bool IsAllowed(string origin)
    {
        if (AllowsAny)
        {
            return true;
        }

        // The common case: the browser's origin is already in normalized form.
        if (_exact.Contains(origin))
        {
            return true;
        }

        if (!TryNormalize(origin, out var normalized))
        {
            return false;
        }

        if (!ReferenceEquals(normalized, origin) && _exact.Contains(normalized))
        {
            return true;
        }

        foreach (var pattern in _patterns)
        {
            if (pattern.Matches(normalized))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Normalizes a serialized origin <c>scheme://host[:port]</c>: scheme and host lowercase, a default port
    /// (80 for http, 443 for https) removed, a port's leading zeros dropped. Returns <paramref name="origin"/> itself
    /// when it is already normalized; false when it is not a well-formed origin.
    /// </summary>
    internal static bool TryNormalize(string origin, out string normalized)
    {
        normalized = origin;
        var separator = origin.IndexOf("://", StringComparison.Ordinal);
        if (separator <= 0)
        {
            return false;
        }

        var scheme = origin[..separator].ToLowerInvariant();
        if (!IsScheme(scheme) || !SplitAuthority(origin[(separator + 3)..], out var host, out var port))
        {
            return false;
        }

        host = host.ToLowerInvariant();
        if (!IsHostName(host) && !IsIpLiteral(host))
        {
            return false;
        }

        if ((scheme == "http" && port == "80") || (scheme == "https" && port == "443"))
        {
            port = string.Empty;
        }

        var candidate = port.Length == 0 ? scheme + "://" + host : scheme + "://" + host + ":" + port;
        if (!string.Equals(candidate, origin, StringComparison.Ordinal))
        {
            normalized = candidate;
        }

        return true;
    }

    private static bool IsIpLiteral(string host)
    {
        if (host.Length < 3 || host[0] != '[' || host[^1] != ']')
        {
            return false;
        }

        return System.Net.IPAddress.TryParse(host.AsSpan(1, host.Length - 2), out var address)
            && address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6;
    }

    internal enum OriginKind
    {
        Invalid,
        Exact,
        Pattern,
        Any,
        AnyOfScheme,
        Null,
    }

    /// <summary>Classifies a configured origin; <paramref name="canonical"/> is the lowercase origin without a default port.</summary>
    internal static OriginKind Classify(string? value, out string? canonical, out Pattern? pattern)
    {
        canonical = null;
        pattern = null;
        if (string.IsNullOrWhiteSpace(value))
        {
            return OriginKind.Invalid;
        }

        var text = value.Trim();
        if (text == "*")
        {
            return OriginKind.Any;
        }

        if (string.Equals(text, "null", StringComparison.OrdinalIgnoreCase))
        {
            return OriginKind.Null;
        }

        var separator = text.IndexOf("://", StringComparison.Ordinal);
        if (separator <= 0)
        {
            return OriginKind.Invalid;
        }

        var scheme = text[..separator].ToLowerInvariant();
        var authority = text[(separator + 3)..];
        if (scheme.Contains('*'))
        {
            return OriginKind.AnyOfScheme;
        }

        if (!IsScheme(scheme) || authority.Length == 0)
        {
            return OriginKind.Invalid;
        }

        if (!SplitAuthority(authority, out var host, out var port))
        {
            return OriginKind.Invalid;
        }

        host = host.ToLowerInvariant();
        if ((scheme == "http" && port == "80") || (scheme == "https" && port == "443"))
        {
            port = string.Empty;
        }

        var suffixPort = port.Length == 0 ? string.Empty : ":" + port;
        if (host.Contains('*'))
        {
            if (IsEverythingHost(host))
            {
                return OriginKind.AnyOfScheme;
            }

            // Only "*." followed by a domain of at least two labels: "*.example.com", never "*.com" or "a*.example.com".
            if (!host.StartsWith("*.", StringComparison.Ordinal) || host.IndexOf('*', 1) >= 0)
            {
                return OriginKind.Invalid;
            }

            var domain = host[2..];
            if (!IsHostName(domain) || !domain.Contains('.'))
            {
                return OriginKind.Invalid;
            }

            pattern = new Pattern(scheme + "://", "." + domain, suffixPort);
            return OriginKind.Pattern;
        }

        if (!IsHostName(host) && !IsIpLiteral(host))
        {
            return OriginKind.Invalid;
        }

        canonical = scheme + "://" + host + suffixPort;
        return OriginKind.Exact;
    }

    private static bool IsEverythingHost(string host) => host is "*" or "*.*" || (host.StartsWith("*.", StringComparison.Ordinal) && !host[2..].Contains('.'));

    private static bool IsScheme(string scheme)
    {
        if (scheme.Length == 0 || !char.IsAsciiLetterLower(scheme[0]))
        {
            return false;
        }

        foreach (var c in scheme)
        {
            if (!(char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '+' or '-' or '.'))
            {
                return false;
            }
        }

        return true;
    }

    private static bool SplitAuthority(string authority, out string host, out string port)
    {
        host = authority;
        port = string.Empty;
        foreach (var c in authority)
        {
            if (c is <= ' ' or >= (char)0x7F or '/' or '?' or '#' or '@' or '\\')
            {
                return false;
            }
        }

        var colon = authority.LastIndexOf(':');
        if (colon >= 0 && authority.IndexOf(']', colon) < 0)
        {
            host = authority[..colon];
            port = authority[(colon + 1)..];
            if (port.Length is 0 or > 5 || !ushort.TryParse(port, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var number))
            {
                return false;
            }

            port = number.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        return host.Length > 0;
    }

    /// <summary>The most characters of a DNS name (RFC 1035 §2.3.4), without a trailing dot.</summary>
    internal const int MaxHostLength = 253;

    /// <summary>The most characters of one DNS label (RFC 1035 §2.3.4).</summary>
    internal const int MaxLabelLength = 63;

    /// <summary>
    /// A DNS host name of letters, digits and hyphens (LDH, RFC 1123 §2.1): labels of 1 to 63 characters separated by
    /// single dots, no label starting or ending with a hyphen, at most 253 characters, no trailing dot. Non-ASCII
    /// (IDN) hosts are compared in their ASCII (punycode) form, which is what browsers send.
    /// </summary>
    internal static bool IsHostName(ReadOnlySpan<char> host)
    {
        if (host.IsEmpty || host.Length > MaxHostLength)
        {
            return false;
        }

        var labelLength = 0;
        var previous = '.';
        foreach (var c in host)
        {
            if (c == '.')
            {
                if (labelLength == 0 || previous == '-')
                {
                    return false;
                }

                labelLength = 0;
            }
            else if (char.IsAsciiLetterOrDigit(c) || c == '-')
            {
                if ((labelLength == 0 && c == '-') || ++labelLength > MaxLabelLength)
                {
                    return false;
                }
            }
            else
            {
                return false;
            }

            previous = c;
        }

        return labelLength > 0 && previous != '-';
    }

    /// <summary>A subdomain pattern, matched against a normalized origin: <c>{scheme}://</c>, then one or more labels, then <c>{suffix}</c> (".example.com"), then the port.</summary>
    internal sealed class Pattern(string prefix, string suffix, string port)
    {
        public bool Matches(string origin)
        {
            var span = origin.AsSpan();
            if (!span.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            {
                return false;
            }

            span = span[prefix.Length..];
            if (port.Length > 0)
            {
                if (!span.EndsWith(port, StringComparison.Ordinal))
                {
                    return false;
                }

                span = span[..^port.Length];
            }

            if (span.Length <= suffix.Length || !span.EndsWith(suffix, StringComparison.OrdinalIgnoreCase))
            {
                return false;
            }

            // What precedes ".example.com" must be one or more well-formed labels (the "*" spans one label or
            // several), and the whole host a well-formed name of at most 253 characters.
            return IsHostName(span);
        }
    }
}
