namespace AiEdge.Middleware.Concurrency;

/// <summary>
/// A named cap on requests in flight that endpoints opt into: NGINX's <c>limit_conn_zone</c> plus <c>limit_conn</c>,
/// with a bounded queue in front of it instead of an immediate refusal, and optionally an adaptive limit.
/// </summary>
public sealed class ConcurrencyTier
{
    /// <summary>Gets or sets the most requests of one partition in flight at once (NGINX's <c>limit_conn zone N</c>).</summary>
    /// <value>Required, at least 1. Configuration key: <c>AiEdge:Concurrency:Tiers:&lt;name&gt;:Limit</c>.</value>
    public int Limit { get; set; }

    /// <summary>
    /// Gets or sets how many requests over the limit may wait for a slot; further ones are refused at once.
    /// 0 refuses every request over the limit, as NGINX's <c>limit_conn</c> does.
    /// </summary>
    /// <value>Defaults to 0. Configuration key: <c>...:Tiers:&lt;name&gt;:QueueLimit</c>.</value>
    public int QueueLimit { get; set; }

    /// <summary>Gets or sets the longest a request waits in the queue before it is refused.</summary>
    /// <value>Defaults to 10 seconds. Configuration key: <c>...:Tiers:&lt;name&gt;:QueueTimeout</c> (<c>00:00:10</c>).</value>
    public TimeSpan QueueTimeout { get; set; } = ConcurrencyDefaults.QueueTimeout;

    /// <summary>Gets or sets whose slots a request counts against.</summary>
    /// <value>Defaults to <see cref="ConcurrencyPartitionKind.None"/> (one cap for the tier). Configuration key: <c>...:Tiers:&lt;name&gt;:Partition</c>.</value>
    public ConcurrencyPartitionKind Partition { get; set; }

    /// <summary>Gets the adaptive limit (only for a tier without partition).</summary>
    /// <value>Off by default. Configuration key: <c>...:Tiers:&lt;name&gt;:Adaptive</c>.</value>
    public AdaptiveConcurrencyOptions Adaptive { get; } = new();
}
