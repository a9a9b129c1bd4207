namespace AiEdge.Middleware.RateLimiting.Internal;

/// <summary>One rule of an admission decision: which bucket, and what the request costs there.</summary>
internal struct RateLimitBatchItem
{
    /// <summary>The rule (tier or plan) deciding.</summary>
    public RateLimitRule Rule;

    /// <summary>The partition charged.</summary>
    public PartitionKey Partition;

    /// <summary>The cost in milli-units: 1000 for a request; the reserved estimate for tokens.</summary>
    public long CostMilli;
}

/// <summary>
/// The rules one request must pass, and their outcomes. Pooled by the middleware and reused: a store reads
/// <see cref="Items"/>[0..<see cref="Count"/>) and writes <see cref="Results"/> at the same indexes.
/// Items are ordered by <see cref="RateLimitRule.LockOrder"/>.
/// </summary>
internal sealed class RateLimitBatch
{
    private RateLimitBatchItem[] _items = new RateLimitBatchItem[4];
    private RateLimitItemResult[] _results = new RateLimitItemResult[4];

    /// <summary>Gets the number of items.</summary>
    public int Count { get; private set; }

    /// <summary>Gets the store clock (ms) of the decision: monotonic for this process.</summary>
    public long NowMs { get; set; }

    /// <summary>Gets or sets whether every item admitted (written by the store).</summary>
    public bool Admitted { get; set; }

    /// <summary>
    /// Gets or sets whether the store refused the batch because its partition table is full of buckets that are not
    /// idle (written by the store; <see cref="Admitted"/> is then false and no bucket changed).
    /// </summary>
    public bool TableFull { get; set; }

    /// <summary>Gets or sets, when <see cref="TableFull"/>, the ms until the store expects a bucket to be idle (at least 1).</summary>
    public long TableFullRetryAfterMs { get; set; }

    /// <summary>Gets the items (valid up to <see cref="Count"/>).</summary>
    public RateLimitBatchItem[] Items => _items;

    /// <summary>Gets the results (valid up to <see cref="Count"/>).</summary>
    public RateLimitItemResult[] Results => _results;

    /// <summary>Adds an item, keeping the items ordered by lock order.</summary>
    public void Add(RateLimitRule rule, PartitionKey partition, long costMilli)
    {
        if (Count == _items.Length)
        {
            Array.Resize(ref _items, Count * 2);
            Array.Resize(ref _results, Count * 2);
        }

        var index = Count;
        while (index > 0 && _items[index - 1].Rule.LockOrder > rule.LockOrder)
        {
            _items[index] = _items[index - 1];
            index--;
        }

        _items[index] = new RateLimitBatchItem { Rule = rule, Partition = partition, CostMilli = costMilli };
        _results[Count] = default;
        Count++;
    }

    /// <summary>Clears the batch for reuse.</summary>
    public void Reset()
    {
        Array.Clear(_items, 0, Count);
        Array.Clear(_results, 0, Count);
        Count = 0;
        NowMs = 0;
        Admitted = false;
        TableFull = false;
        TableFullRetryAfterMs = 0;
    }
}
