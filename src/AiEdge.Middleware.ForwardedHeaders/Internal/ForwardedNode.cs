namespace AiEdge.Middleware.ForwardedHeaders.Internal;

/// <summary>What one forwarded hop names.</summary>
internal enum NodeKind : byte
{
    /// <summary>An IP address, optionally with a port.</summary>
    Address,

    /// <summary>The RFC 7239 <c>unknown</c> identifier.</summary>
    Unknown,

    /// <summary>An RFC 7239 obfuscated identifier such as <c>_hidden</c>.</summary>
    Obfuscated,

    /// <summary>Anything else: the hop cannot be parsed.</summary>
    Invalid,
}

/// <summary>
/// Parses one hop of <c>X-Forwarded-For</c>, <c>X-Real-IP</c> or a <c>Forwarded</c> <c>for=</c> value:
/// <c>192.0.2.1</c>, <c>192.0.2.1:8080</c>, <c>2001:db8::1</c>, <c>[2001:db8::1]</c>, <c>[2001:db8::1]:8080</c>,
/// <c>unknown</c>, <c>_obfuscated</c> (ports may be obfuscated too). Never throws and never allocates.
/// </summary>
internal static class ForwardedNode
{
    public static NodeKind Parse(ReadOnlySpan<char> text, out IpValue address, out int port)
    {
        address = default;
        port = -1;
        text = text.Trim(" \t");
        if (text.IsEmpty)
        {
            return NodeKind.Invalid;
        }

        if (text.Equals("unknown", StringComparison.OrdinalIgnoreCase))
        {
            return NodeKind.Unknown;
        }

        if (text[0] == '_')
        {
            return IsObfuscatedId(text) ? NodeKind.Obfuscated : NodeKind.Invalid;
        }

        ReadOnlySpan<char> host;
        ReadOnlySpan<char> portText = default;
        var hasPort = false;
        if (text[0] == '[')
        {
            var close = text.IndexOf(']');
            if (close < 0)
            {
                return NodeKind.Invalid;
            }

            host = text[1..close];
            var rest = text[(close + 1)..];
            if (!host.Contains(':'))
            {
                return NodeKind.Invalid;
            }

            if (!rest.IsEmpty)
            {
                if (rest[0] != ':')
                {
                    return NodeKind.Invalid;
                }

                hasPort = true;
                portText = rest[1..];
            }
        }
        else
        {
            var colon = text.IndexOf(':');
            if (colon >= 0 && text.LastIndexOf(':') == colon)
            {
                host = text[..colon];
                portText = text[(colon + 1)..];
                hasPort = true;
            }
            else
            {
                host = text;
            }
        }

        if (!IpValue.TryParse(host, out address))
        {
            return NodeKind.Invalid;
        }

        if (hasPort && !TryParsePort(portText, out port))
        {
            address = default;
            port = -1;
            return NodeKind.Invalid;
        }

        return NodeKind.Address;
    }

    private static bool TryParsePort(ReadOnlySpan<char> text, out int port)
    {
        port = -1;
        if (!text.IsEmpty && text[0] == '_')
        {
            // An obfuscated port: valid, but there is nothing to apply.
            return IsObfuscatedId(text);
        }

        if (text.IsEmpty || text.Length > 5)
        {
            return false;
        }

        var value = 0;
        foreach (var c in text)
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }

            value = (value * 10) + (c - '0');
        }

        if (value > 65535)
        {
            return false;
        }

        port = value;
        return true;
    }

    /// <summary>RFC 7239 <c>obfnode</c>/<c>obfport</c>: <c>"_" 1*(ALPHA / DIGIT / "." / "_" / "-")</c>.</summary>
    private static bool IsObfuscatedId(ReadOnlySpan<char> text)
    {
        if (text.Length < 2 || text[0] != '_')
        {
            return false;
        }

        foreach (var c in text[1..])
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('.' or '_' or '-'))
            {
                return false;
            }
        }

        return true;
    }
}
