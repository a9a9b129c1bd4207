using AiEdge.Middleware.Internal;

namespace AiEdge.Middleware.RateLimiting.Internal;

/// <summary>Parses rates as NGINX writes them (<c>10r/s</c>) and token windows (<c>1m</c>, <c>00:01:00</c>).</summary>
internal static class RateParser
{
    /// <summary>The largest count accepted in a rate or budget (keeps milli-unit arithmetic far from overflow).</summary>
    public const long MaxCount = 1_000_000_000;

    /// <summary>Parses <c>Nr/s</c>, <c>Nr/m</c>, <c>Nr/h</c> or <c>Nr/d</c> into a count and a period in seconds.</summary>
    public static bool TryParseRate(string? text, out long count, out long periodSeconds)
    {
        count = 0;
        periodSeconds = 0;
        if (string.IsNullOrEmpty(text))
        {
            return false;
        }

        var span = text.AsSpan().Trim();
        if (span.Length < 4 || span[^3] != 'r' || span[^2] != '/')
        {
            return false;
        }

        periodSeconds = span[^1] switch
        {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86400,
            _ => 0,
        };
        return periodSeconds != 0 && TryParseCount(span[..^3], out count);
    }

    /// <summary>
    /// Parses a token window in the suite's duration syntax (<c>1m</c>, <c>30s</c>, <c>1h</c>, <c>1d</c> or
    /// <c>00:01:00</c>) into whole seconds: at least one second, no fraction of a second.
    /// </summary>
    public static bool TryParseWindow(string? text, out long seconds)
    {
        seconds = 0;
        if (!AiEdgeDuration.TryParse(text, out var window) || window.Ticks % TimeSpan.TicksPerSecond != 0 || window < TimeSpan.FromSeconds(1))
        {
            return false;
        }

        seconds = (long)window.TotalSeconds;
        return seconds <= MaxCount / 86400 * 86400;
    }

    private static bool TryParseCount(ReadOnlySpan<char> digits, out long value)
    {
        value = 0;
        if (digits.IsEmpty || digits.Length > 10)
        {
            return false;
        }

        foreach (var c in digits)
        {
            if (c is < '0' or > '9')
            {
                return false;
            }

            value = value * 10 + (c - '0');
        }

        return value is > 0 and <= MaxCount;
    }
}
