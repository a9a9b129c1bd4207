namespace AiEdge.Middleware.RateLimiting;

/// <summary>
/// An LLM token budget of a tier: a bucket of <see cref="Tokens"/> that refills continuously over
/// <see cref="Window"/>, per partition. Admission reserves an estimate (prompt estimate plus <c>max_tokens</c>);
/// the response's real <c>usage</c> settles it.
/// </summary>
public sealed class RateLimitTokenBudget
{
    /// <summary>Gets or sets the tokens a partition may spend per <see cref="Window"/>.</summary>
    /// <value>Required, greater than 0. Configuration key: <c>AiEdge:RateLimiting:Tiers:&lt;name&gt;:TokenBudget:Tokens</c>.</value>
    public long Tokens { get; set; }

    /// <summary>Gets or sets the refill window: <c>Ns</c>, <c>Nm</c>, <c>Nh</c> or <c>Nd</c> (e.g. <c>1m</c>, <c>1d</c>).</summary>
    /// <value>Defaults to <c>1m</c>. Configuration key: <c>...:TokenBudget:Window</c>.</value>
    public string Window { get; set; } = RateLimitingDefaults.TokenWindow;

    /// <summary>Gets or sets the completion tokens reserved when the body has no <c>max_tokens</c> (or <c>max_completion_tokens</c>).</summary>
    /// <value>Defaults to 256. Configuration key: <c>...:TokenBudget:DefaultMaxTokens</c>.</value>
    public int DefaultMaxTokens { get; set; } = RateLimitingDefaults.DefaultMaxTokens;

    /// <summary>Gets or sets the prompt characters counted as one token when estimating the prompt.</summary>
    /// <value>Defaults to 4. Configuration key: <c>...:TokenBudget:CharsPerToken</c>.</value>
    public int CharsPerToken { get; set; } = RateLimitingDefaults.CharsPerToken;

    /// <summary>Gets or sets how many body bytes are inspected for the estimate; a larger body is estimated from its length.</summary>
    /// <value>Defaults to 1 MiB. Configuration key: <c>...:TokenBudget:MaxInspectedBodyBytes</c>.</value>
    public int MaxInspectedBodyBytes { get; set; } = RateLimitingDefaults.MaxInspectedBodyBytes;
}
