namespace AiEdge.Middleware.Internal;

/// <summary>The in-process <see cref="IIdempotencyStore"/>: one lock, expired slots swept at most once a minute.</summary>
internal sealed class InMemoryIdempotencyStore(TimeProvider time) : IIdempotencyStore
{
    private static readonly TimeSpan SweepInterval = TimeSpan.FromMinutes(1);
    private readonly Lock _lock = new();
    private readonly Dictionary<string, Slot> _slots = new(StringComparer.Ordinal);
    private DateTimeOffset _nextSweep;

    /// <summary>Gets the number of keys held (claimed or completed), for tests.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _slots.Count;
            }
        }
    }

    public ValueTask<IdempotencyClaim> TryClaimAsync(string key, byte[] fingerprint, string token, TimeSpan lease, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        lock (_lock)
        {
            Sweep_NeedsLock(now);
            if (_slots.TryGetValue(key, out var slot) && slot.Until > now)
            {
                return ValueTask.FromResult(slot.Record is { } record
                    ? new IdempotencyClaim(IdempotencyClaimStatus.Completed, record.Fingerprint, record)
                    : new IdempotencyClaim(IdempotencyClaimStatus.InProgress, slot.Fingerprint, null));
            }

            _slots[key] = new Slot(token, fingerprint, null, now + lease);
            return ValueTask.FromResult(IdempotencyClaim.Claimed);
        }
    }

    public ValueTask<bool> CompleteAsync(string key, string token, IdempotencyRecord record, TimeSpan retention, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        lock (_lock)
        {
            if (_slots.TryGetValue(key, out var slot) && slot.Record is null && string.Equals(slot.Token, token, StringComparison.Ordinal))
            {
                _slots[key] = new Slot(token, record.Fingerprint, record, now + retention);
                return ValueTask.FromResult(true);
            }

            return ValueTask.FromResult(false);
        }
    }

    public ValueTask ReleaseAsync(string key, string token, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (_slots.TryGetValue(key, out var slot) && slot.Record is null && string.Equals(slot.Token, token, StringComparison.Ordinal))
            {
                _slots.Remove(key);
            }
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask<IdempotencyRecord?> GetAsync(string key, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        lock (_lock)
        {
            return ValueTask.FromResult(_slots.TryGetValue(key, out var slot) && slot.Until > now ? slot.Record : null);
        }
    }

    private void Sweep_NeedsLock(DateTimeOffset now)
    {
        if (now < _nextSweep)
        {
            return;
        }

        _nextSweep = now + SweepInterval;
        List<string>? expired = null;
        foreach (var (key, slot) in _slots)
        {
            if (slot.Until <= now)
            {
                (expired ??= []).Add(key);
            }
        }

        if (expired is not null)
        {
            foreach (var key in expired)
            {
                _slots.Remove(key);
            }
        }
    }

    private sealed record Slot(string Token, byte[] Fingerprint, IdempotencyRecord? Record, DateTimeOffset Until);
}
