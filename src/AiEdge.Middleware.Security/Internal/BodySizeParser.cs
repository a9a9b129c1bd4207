using System.Globalization;

namespace AiEdge.Middleware.Security.Internal;

/// <summary>Parses sizes the way NGINX writes them (<c>client_max_body_size</c>): bytes, or a number with k, m or g.</summary>
internal static class BodySizeParser
{
    /// <summary>The expected shape, quoted in error messages.</summary>
    public const string Shape = "must look like \"10m\", \"512k\", \"1g\" or a number of bytes (\"0\" means no limit)";

    /// <summary>
    /// Parses <paramref name="text"/>: <c>1024</c>, <c>512k</c>, <c>10m</c>, <c>1g</c> (binary multiples, case-insensitive).
    /// <c>0</c> means no limit and yields <paramref name="bytes"/> = <see langword="null"/>.
    /// </summary>
    public static bool TryParse(string? text, out long? bytes)
    {
        bytes = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        var span = text.AsSpan().Trim();
        long multiplier = 1;
        switch (span[^1])
        {
            case 'k' or 'K':
                multiplier = 1024;
                span = span[..^1];
                break;
            case 'm' or 'M':
                multiplier = 1024 * 1024;
                span = span[..^1];
                break;
            case 'g' or 'G':
                multiplier = 1024 * 1024 * 1024;
                span = span[..^1];
                break;
        }

        if (span.IsEmpty || !long.TryParse(span, NumberStyles.None, CultureInfo.InvariantCulture, out var number))
        {
            return false;
        }

        if (number > long.MaxValue / multiplier)
        {
            return false;
        }

        bytes = number == 0 ? null : number * multiplier;
        return true;
    }

    /// <summary>Parses <paramref name="text"/> or throws an <see cref="ArgumentException"/> naming <paramref name="paramName"/>.</summary>
    public static long? Parse(string text, string paramName)
        => TryParse(text, out var bytes)
            ? bytes
            : throw new ArgumentException($"The body limit \"{text}\" {Shape}.", paramName);

    /// <summary>Writes <paramref name="bytes"/> the way NGINX would, using the largest exact unit.</summary>
    public static string Format(long bytes)
    {
        if (bytes % (1024L * 1024 * 1024) == 0)
        {
            return (bytes / (1024L * 1024 * 1024)).ToString(CultureInfo.InvariantCulture) + "g";
        }

        if (bytes % (1024L * 1024) == 0)
        {
            return (bytes / (1024L * 1024)).ToString(CultureInfo.InvariantCulture) + "m";
        }

        return bytes % 1024 == 0
            ? (bytes / 1024).ToString(CultureInfo.InvariantCulture) + "k"
            : bytes.ToString(CultureInfo.InvariantCulture);
    }
}
