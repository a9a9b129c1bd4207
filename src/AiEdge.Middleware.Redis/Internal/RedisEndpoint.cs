using System.Globalization;

namespace AiEdge.Middleware.Redis.Internal;

/// <summary>A parsed <c>AiEdge:Redis:Configuration</c> string.</summary>
internal sealed record RedisEndpoint(string Host, int Port, string? User, string? Password, bool Ssl, int Database)
{
    public const string Syntax = "host:port[,password=...][,user=...][,ssl=true][,db=N]";

    /// <summary>Parses <paramref name="text"/>; on failure <paramref name="error"/> says why (never echoing the password).</summary>
    public static bool TryParse(string? text, out RedisEndpoint? endpoint, out string? error)
    {
        endpoint = null;
        error = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            error = "is empty";
            return false;
        }

        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        if (!TryParseHostPort(parts[0], out var host, out var port))
        {
            error = $"must start with host:port (found '{parts[0]}')";
            return false;
        }

        string? user = null, password = null;
        var ssl = false;
        var database = 0;
        for (var i = 1; i < parts.Length; i++)
        {
            var part = parts[i];
            if (part.Length == 0)
            {
                continue;
            }

            var equals = part.IndexOf('=');
            if (equals <= 0)
            {
                error = $"has an option without a value ('{part}')";
                return false;
            }

            var name = part[..equals].Trim();
            var value = part[(equals + 1)..].Trim();
            switch (name.ToLowerInvariant())
            {
                case "password":
                    password = value;
                    break;
                case "user":
                    user = value;
                    break;
                case "ssl":
                    if (!bool.TryParse(value, out ssl))
                    {
                        error = $"has ssl={value}; use ssl=true or ssl=false";
                        return false;
                    }

                    break;
                case "db":
                    if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out database) || database > 65535)
                    {
                        error = $"has db={value}; use a database number from 0";
                        return false;
                    }

                    break;
                default:
                    error = $"has an unknown option '{name}'";
                    return false;
            }
        }

        if (user is not null && password is null)
        {
            error = "has user= without password=";
            return false;
        }

        endpoint = new RedisEndpoint(host!, port, user, password, ssl, database);
        return true;
    }

    private static bool TryParseHostPort(string text, out string? host, out int port)
    {
        host = null;
        port = 6379;
        if (text.Length == 0)
        {
            return false;
        }

        // [::1]:6379, host:6379, host
        var portText = (string?)null;
        if (text[0] == '[')
        {
            var close = text.IndexOf(']');
            if (close < 2)
            {
                return false;
            }

            host = text[1..close];
            if (close + 1 < text.Length)
            {
                if (text[close + 1] != ':')
                {
                    return false;
                }

                portText = text[(close + 2)..];
            }
        }
        else
        {
            var colon = text.LastIndexOf(':');
            if (colon >= 0 && text.IndexOf(':') != colon)
            {
                return false;
            }

            host = colon < 0 ? text : text[..colon];
            portText = colon < 0 ? null : text[(colon + 1)..];
        }

        if (host.Length == 0 || host.AsSpan().ContainsAny(" /\\@"))
        {
            return false;
        }

        return portText is null
            || (int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out port) && port is > 0 and <= 65535);
    }

    /// <summary>The endpoint without secrets, for logs and health reports.</summary>
    public override string ToString() => $"{Host}:{Port}" + (Database != 0 ? $" db={Database}" : string.Empty) + (Ssl ? " ssl" : string.Empty);
}
