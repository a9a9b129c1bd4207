namespace AiEdge.Middleware.Security.Internal;

/// <summary>Checks header names and values given in code or configuration, so no value can inject a header.</summary>
internal static class HeaderValues
{
    /// <summary>Gets whether <paramref name="name"/> is an RFC 9110 token (a valid field name).</summary>
    public static bool IsValidName(string? name)
    {
        if (string.IsNullOrEmpty(name))
        {
            return false;
        }

        foreach (var c in name)
        {
            if (c is <= ' ' or >= (char)0x7F or '(' or ')' or ',' or '/' or ':' or ';' or '<' or '=' or '>' or '?' or '@' or '[' or '\\' or ']' or '{' or '}' or '"')
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Gets whether <paramref name="value"/> is visible ASCII and spaces only (no CR, LF or other control characters).</summary>
    public static bool IsValidValue(string? value)
    {
        if (value is null)
        {
            return false;
        }

        foreach (var c in value)
        {
            if (c is < ' ' or >= (char)0x7F)
            {
                return false;
            }
        }

        return true;
    }

    public static string CheckName(string name, string paramName)
        => IsValidName(name) ? name : throw new ArgumentException($"\"{name}\" is not a valid header name.", paramName);

    public static string CheckValue(string value, string paramName)
        => IsValidValue(value) ? value : throw new ArgumentException("A header value must be visible ASCII without control characters (CR and LF included).", paramName);
}
