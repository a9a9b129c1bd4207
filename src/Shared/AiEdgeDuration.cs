using System.Globalization;

namespace AiEdge.Middleware.Internal;

/// <summary>
/// The one duration syntax of every AiEdge setting: a <see cref="TimeSpan"/> as .NET writes it (<c>00:05:00</c>,
/// <c>1.00:00:00</c>) or a whole number with a unit, as NGINX writes durations: <c>250ms</c>, <c>30s</c>, <c>5m</c>,
/// <c>1h</c>, <c>1d</c>.
/// </summary>
internal static class AiEdgeDuration
{
    /// <summary>How the syntax is described in configuration errors.</summary>
    public const string Description = "a duration such as 00:05:00, 5m, 30s, 250ms or 1h";

    /// <summary>Parses <paramref name="text"/> in either form; leading and trailing white space is ignored.</summary>
    public static bool TryParse(string? text, out TimeSpan value)
    {
        value = default;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        var span = text.AsSpan().Trim();
        if (span.Contains(':'))
        {
            return TimeSpan.TryParse(span, CultureInfo.InvariantCulture, out value);
        }

        var digits = 0;
        while (digits < span.Length && span[digits] is >= '0' and <= '9')
        {
            digits++;
        }

        if (digits == 0 || digits > 12 || !long.TryParse(span[..digits], NumberStyles.None, CultureInfo.InvariantCulture, out var count))
        {
            return false;
        }

        long? milliseconds = span[digits..] switch
        {
            "ms" => 1,
            "s" => 1000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            _ => null,
        };
        if (milliseconds is not { } unit || count > TimeSpan.MaxValue.TotalMilliseconds / unit)
        {
            return false;
        }

        value = TimeSpan.FromMilliseconds(count * unit);
        return true;
    }
}
