namespace AiEdge.Middleware.RateLimiting;

/// <summary>
/// Lets the code that produces a response tell the rate limiter what the response cost, when the usage is not in the
/// bytes the caller receives (a proxy that asked a backend for usage and removed it from the relayed stream, or a
/// handler that counted tokens itself). The rate limiter sets it on a request whose tier has a token budget, for as
/// long as the endpoint runs, and settles the reservation once the endpoint returns: a report made through
/// <see cref="ReportUsage"/> wins over the <c>usage</c> found in the response, which wins over a report made through
/// <see cref="ReportCompletionCharacters"/>. Absent when no token budget applies to the request.
/// </summary>
public interface ITokenUsageFeature
{
    /// <summary>
    /// Reports the tokens the response used, as counted by the model (an OpenAI-style <c>usage</c> object). The last
    /// report wins. Negative values are ignored.
    /// </summary>
    /// <param name="promptTokens">The prompt's tokens.</param>
    /// <param name="completionTokens">The generated tokens.</param>
    void ReportUsage(long promptTokens, long completionTokens);

    /// <summary>
    /// Reports the characters of generated text relayed to the caller, for a response whose model reported no usage.
    /// The reservation is then settled at the prompt estimate plus
    /// <c>ceil(characters / TokenBudget:CharsPerToken)</c> of the request's tier. Reports add up. Negative values are
    /// ignored.
    /// </summary>
    /// <param name="characters">The characters of generated text relayed since the last report.</param>
    void ReportCompletionCharacters(long characters);
}
