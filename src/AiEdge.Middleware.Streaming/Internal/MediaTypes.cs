namespace AiEdge.Middleware.Streaming.Internal;

/// <summary>Allocation-free checks of <c>Content-Type</c> values.</summary>
internal static class MediaTypes
{
    public const string EventStream = "text/event-stream";

    /// <summary>Whether <paramref name="contentType"/> (parameters allowed) has the media type <paramref name="mediaType"/>.</summary>
    public static bool Is(string? contentType, string mediaType)
    {
        if (string.IsNullOrEmpty(contentType))
        {
            return false;
        }

        var value = contentType.AsSpan();
        var semicolon = value.IndexOf(';');
        if (semicolon >= 0)
        {
            value = value[..semicolon];
        }

        return value.Trim().Equals(mediaType, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>Whether <paramref name="value"/> looks like <c>type/subtype</c>.</summary>
    public static bool IsMediaType(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return false;
        }

        var slash = value.IndexOf('/');
        return slash > 0 && slash < value.Length - 1 && value.IndexOf('/', slash + 1) < 0 && value.AsSpan().IndexOfAny(" ;,\r\n") < 0;
    }
}
