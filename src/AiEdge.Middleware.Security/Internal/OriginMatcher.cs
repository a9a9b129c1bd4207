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

    public bool IsAllowed(string origin)
    {
        if (AllowsAny)
        {
            return true;
        }

        if (_exact.Contains(origin))
        {
            return true;
        }

        foreach (var pattern in _patterns)
        {
            if (pattern.Matches(origin))
            {
                return true;
            }
        }

        return false;
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

        if (!IsHostName(host) && !(host.StartsWith('[') && host.EndsWith(']')))
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

    /// <summary>Letters, digits, dashes and dots, with no empty label.</summary>
    internal static bool IsHostName(ReadOnlySpan<char> host)
    {
        if (host.IsEmpty || host[0] == '.' || host[^1] == '.')
        {
            return false;
        }

        var previous = '.';
        foreach (var c in host)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '.') || (c == '.' && previous == '.'))
            {
                return false;
            }

            previous = c;
        }

        return true;
    }

    /// <summary>A subdomain pattern: <c>{scheme}://</c>, then one or more labels, then <c>{suffix}</c> (".example.com"), then the port.</summary>
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

            // What precedes ".example.com" must be one or more well-formed labels, and nothing else (no port, path or userinfo).
            return IsHostName(span[..^suffix.Length]);
        }
    }
}
