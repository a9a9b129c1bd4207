namespace AiEdge.Middleware.RateLimiting.Internal;

/// <summary>The rate limiter's <see cref="ITokenUsageFeature"/>: what the endpoint reported, read when the reservation is settled.</summary>
internal sealed class TokenUsageFeature : ITokenUsageFeature
{
    /// <summary>Gets the reported total (prompt plus completion), or -1 when nothing was reported.</summary>
    public long ReportedTokens { get; private set; } = -1;

    /// <summary>Gets the reported characters of generated text, or -1 when nothing was reported.</summary>
    public long CompletionCharacters { get; private set; } = -1;

    public void ReportUsage(long promptTokens, long completionTokens)
    {
        if (promptTokens >= 0 && completionTokens >= 0)
        {
            ReportedTokens = promptTokens + completionTokens;
        }
    }

    public void ReportCompletionCharacters(long characters)
    {
        if (characters >= 0)
        {
            CompletionCharacters = Math.Max(CompletionCharacters, 0) + characters;
        }
    }
}
