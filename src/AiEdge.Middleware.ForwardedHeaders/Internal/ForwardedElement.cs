namespace AiEdge.Middleware.ForwardedHeaders.Internal;

/// <summary>
/// Parses one RFC 7239 <c>forwarded-element</c> (the text between two top-level commas): <c>;</c>-separated
/// <c>name=value</c> pairs whose values are tokens or quoted strings. Names are case-insensitive; a repeated
/// <c>for</c>, <c>proto</c>, <c>host</c> or <c>by</c>, or a backslash escape, makes the element malformed.
/// Never throws and never allocates.
/// </summary>
internal static class ForwardedElement
{
    public static bool TryParse(ReadOnlySpan<char> element, out ReadOnlySpan<char> forValue, out ReadOnlySpan<char> proto, out ReadOnlySpan<char> host)
    {
        forValue = default;
        proto = default;
        host = default;
        bool seenFor = false, seenProto = false, seenHost = false, seenBy = false;
        var i = 0;
        while (true)
        {
            i = SkipWhitespace(element, i);
            if (i == element.Length)
            {
                return true;
            }

            if (element[i] == ';')
            {
                i++;
                continue;
            }

            var nameStart = i;
            while (i < element.Length && IsTokenChar(element[i]))
            {
                i++;
            }

            var name = element[nameStart..i];
            if (name.IsEmpty || i == element.Length || element[i] != '=')
            {
                return false;
            }

            i++;
            ReadOnlySpan<char> value;
            if (i < element.Length && element[i] == '"')
            {
                i++;
                var valueStart = i;
                while (i < element.Length && element[i] != '"')
                {
                    if (element[i] == '\\')
                    {
                        return false;
                    }

                    i++;
                }

                if (i == element.Length)
                {
                    return false;
                }

                value = element[valueStart..i];
                i++;
            }
            else
            {
                var valueStart = i;
                while (i < element.Length && element[i] is not (';' or ' ' or '\t' or '"' or ','))
                {
                    i++;
                }

                value = element[valueStart..i];
                if (value.IsEmpty)
                {
                    return false;
                }
            }

            if (name.Equals("for", StringComparison.OrdinalIgnoreCase))
            {
                if (seenFor)
                {
                    return false;
                }

                seenFor = true;
                forValue = value;
            }
            else if (name.Equals("proto", StringComparison.OrdinalIgnoreCase))
            {
                if (seenProto)
                {
                    return false;
                }

                seenProto = true;
                proto = value;
            }
            else if (name.Equals("host", StringComparison.OrdinalIgnoreCase))
            {
                if (seenHost)
                {
                    return false;
                }

                seenHost = true;
                host = value;
            }
            else if (name.Equals("by", StringComparison.OrdinalIgnoreCase))
            {
                if (seenBy)
                {
                    return false;
                }

                seenBy = true;
            }

            i = SkipWhitespace(element, i);
            if (i == element.Length)
            {
                return true;
            }

            if (element[i] != ';')
            {
                return false;
            }

            i++;
        }
    }

    private static int SkipWhitespace(ReadOnlySpan<char> text, int i)
    {
        while (i < text.Length && text[i] is ' ' or '\t')
        {
            i++;
        }

        return i;
    }

    private static bool IsTokenChar(char c)
        => char.IsAsciiLetterOrDigit(c) || c is '!' or '#' or '$' or '%' or '&' or '\'' or '*' or '+' or '-' or '.' or '^' or '_' or '`' or '|' or '~';
}
