namespace AiEdge.Middleware.RateLimiting;

/// <summary>One rule of an admission decision, as a store reads it: which bucket, and what the request costs there.</summary>
public readonly struct RateLimitBatchItem
{
    /// <summary>Creates an item.</summary>
    /// <param name="rule">The rule deciding.</param>
    /// <param name="partition">The partition charged.</param>
    /// <param name="costMilli">The cost in milli-units.</param>
    public RateLimitBatchItem(RateLimitRule rule, PartitionKey partition, long costMilli)
    {
        Rule = rule;
        Partition = partition;
        CostMilli = costMilli;
    }

    /// <summary>Gets the rule (a tier's or a plan's) deciding; with <see cref="Partition"/> it names the bucket.</summary>
    public RateLimitRule Rule { get; }

    /// <summary>Gets the partition charged.</summary>
    public PartitionKey Partition { get; }

    /// <summary>
    /// Gets the cost in milli-units: for a <see cref="RateLimitUnit.Requests"/> rule always 1000 (the arithmetic
    /// ignores it); for a <see cref="RateLimitUnit.Tokens"/> rule the reserved estimate (at most the capacity; 0 is a
    /// valid reservation that only checks the budget is not overspent).
    /// </summary>
    public long CostMilli { get; }
}
