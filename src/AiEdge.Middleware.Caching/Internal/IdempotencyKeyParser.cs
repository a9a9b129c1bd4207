using AiEdge.Middleware.Internal;
namespace AiEdge.Middleware.Caching.Internal;

/// <summary>Parses the <c>Idempotency-Key</c> field: one Structured Field string (RFC 8941 §3.3.3), e.g. <c>"8e03978e-40d5"</c>.</summary>
internal static class IdempotencyKeyParser
{
    /// <summary>Parses <paramref name="field"/> into the key's characters; <see langword="false"/> when it is not one non-empty sf-string of at most <paramref name="maxLength"/> characters.</summary>
    public static bool TryParse(ReadOnlySpan<char> field, int maxLength, Span<char> destination, out int length)
    {
        length = 0;
        var value = field.Trim(' ');
        if (value.Length < 2 || value[0] != '"')
        {
            return false;
        }

        var i = 1;
        while (i < value.Length)
        {
            var c = value[i];
            if (c == '\\')
            {
                if (i + 1 >= value.Length || (value[i + 1] != '"' && value[i + 1] != '\\'))
                {
                    return false;
                }

                c = value[i + 1];
                i += 2;
            }
            else if (c == '"')
            {
                // The closing quote must end the field (a second member or parameters are not a key).
                return i == value.Length - 1 && length > 0;
            }
            else if (c is < (char)0x20 or > (char)0x7E)
            {
                return false;
            }
            else
            {
                i++;
            }

            if (length == maxLength || length == destination.Length)
            {
                return false;
            }

            destination[length++] = c;
        }

        return false;
    }
}
