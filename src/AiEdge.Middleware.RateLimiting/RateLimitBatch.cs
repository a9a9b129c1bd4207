namespace AiEdge.Middleware.RateLimiting;

/// <summary>
/// The rules one request must pass, and their outcomes: what <see cref="IRateLimitStore.AcquireAsync"/> reads and
/// writes. A store reads <see cref="Items"/> and <see cref="NowMs"/> and writes <see cref="Results"/> (same indexes),
/// <see cref="Admitted"/>, and, when it refuses for want of room, <see cref="TableFull"/> and
/// <see cref="TableFullRetryAfterMs"/>.
/// </summary>
/// <remarks>
/// <see cref="Add"/> keeps the items in ascending <see cref="RateLimitRule.LockOrder"/> (stable for equal orders), so
/// every batch presents shared buckets in the same order. The middleware pools batches and reuses them once the
/// store's task has completed: a store keeps no reference to a batch after that, and one built by hand may be
/// reused after <see cref="Reset"/>. Not thread-safe: one decision at a time.
/// </remarks>
public sealed class RateLimitBatch
{
    private RateLimitBatchItem[] _items = new RateLimitBatchItem[4];
    private RateLimitItemResult[] _results = new RateLimitItemResult[4];

    /// <summary>Gets the number of items.</summary>
    public int Count { get; private set; }

    /// <summary>
    /// Gets or sets the decision time (ms) on the caller's monotonic clock; every item is decided at this instant. A
    /// store with a shared clock of its own (such as Redis <c>TIME</c>) uses that instead.
    /// </summary>
    public long NowMs { get; set; }

    /// <summary>Gets or sets whether every item admitted and the batch was committed (written by the store).</summary>
    public bool Admitted { get; set; }

    /// <summary>
    /// Gets or sets whether the store refused the batch because it holds as many buckets as it may, none of them idle
    /// (written by the store; <see cref="Admitted"/> is then false, the results are default and no bucket changed).
    /// </summary>
    public bool TableFull { get; set; }

    /// <summary>Gets or sets, when <see cref="TableFull"/>, the ms until the store expects a bucket to be idle (at least 1).</summary>
    public long TableFullRetryAfterMs { get; set; }

    /// <summary>Gets the items, in ascending <see cref="RateLimitRule.LockOrder"/>.</summary>
    public ReadOnlySpan<RateLimitBatchItem> Items => _items.AsSpan(0, Count);

    /// <summary>Gets the results, one per item at the same index (written by the store).</summary>
    public Span<RateLimitItemResult> Results => _results.AsSpan(0, Count);

    /// <summary>Adds an item, keeping the items ordered by <see cref="RateLimitRule.LockOrder"/>.</summary>
    /// <param name="rule">The rule deciding.</param>
    /// <param name="partition">The partition charged.</param>
    /// <param name="costMilli">The cost in milli-units: 1000 for a request rule; the reserved estimate for a token rule.</param>
    public void Add(RateLimitRule rule, PartitionKey partition, long costMilli)
    {
        ArgumentNullException.ThrowIfNull(rule);
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

        _items[index] = new RateLimitBatchItem(rule, partition, costMilli);
        _results[Count] = default;
        Count++;
    }

    /// <summary>Clears the batch for reuse: no items, time 0, no outcome.</summary>
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
