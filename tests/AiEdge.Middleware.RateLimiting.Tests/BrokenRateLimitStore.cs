using System.Collections.Concurrent;
using AiEdge.Middleware.RateLimiting;

namespace AiEdge.Middleware.RateLimiting.Tests;

/// <summary>
/// A plain store over <see cref="LeakyBucket"/> (one async gate, a bounded table that forgets idle buckets) that
/// passes the conformance kit, with one deliberate defect switched on at a time to show each check can fail.
/// </summary>
public sealed class BrokenRateLimitStore(BrokenRateLimitStore.Defect defect, int maxBuckets = int.MaxValue) : IRateLimitStore
{
    public enum Defect
    {
        None,
        FirstRequestCharged,
        NoDelay,
        NoGiveBack,
        NotAllOrNothing,
        BackwardsMovesLast,
        ForgetsEarly,
        EvictsLive,
        NeverForgets,
        Racy,
        IgnoresLockOrder,
        PartialOnCancel,
    }

    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly ConcurrentDictionary<(RateLimitRule, PartitionKey), Entry> _buckets = new();
    private readonly object _pairing = new();
    private TaskCompletionSource? _waiting;
    private long _calls;
    private long _created;

    public async ValueTask AcquireAsync(RateLimitBatch batch, CancellationToken cancellationToken)
    {
        if (defect == Defect.IgnoresLockOrder)
        {
            await AcquireOutOfOrderAsync(batch);
            return;
        }

        if (defect != Defect.Racy)
        {
            await _gate.WaitAsync(CancellationToken.None);
        }

        try
        {
            await DecideAsync(batch, cancellationToken);
        }
        finally
        {
            if (defect != Defect.Racy)
            {
                _gate.Release();
            }
        }
    }

    public async ValueTask<long> ReconcileAsync(RateLimitRule rule, PartitionKey partition, long deltaMilli, long nowMs, CancellationToken cancellationToken)
    {
        if (defect != Defect.Racy)
        {
            await _gate.WaitAsync(CancellationToken.None);
        }

        try
        {
            var entry = _buckets.GetOrAdd((rule, partition), _ => new Entry(Interlocked.Increment(ref _created)));
            var state = entry.State;
            if (defect == Defect.Racy)
            {
                await RendezvousAsync();
            }

            var remaining = LeakyBucket.Reconcile(rule, ref state, defect == Defect.NoGiveBack ? Math.Max(deltaMilli, 0) : deltaMilli, nowMs);
            entry.State = state;
            return remaining;
        }
        finally
        {
            if (defect != Defect.Racy)
            {
                _gate.Release();
            }
        }
    }

    // The racy defect, made certain: a call that has read a bucket waits for a second call to read it too before
    // either writes, so one of the two updates is lost whenever two calls overlap (a lone call goes on after 1 s).
    private async Task RendezvousAsync()
    {
        TaskCompletionSource? partner;
        TaskCompletionSource? mine = null;
        lock (_pairing)
        {
            partner = _waiting;
            if (partner is null)
            {
                mine = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                _waiting = mine;
            }
            else
            {
                _waiting = null;
            }
        }

        if (partner is not null)
        {
            partner.TrySetResult();
            return;
        }

        await Task.WhenAny(mine!.Task, Task.Delay(TimeSpan.FromSeconds(1)));
        lock (_pairing)
        {
            if (ReferenceEquals(_waiting, mine))
            {
                _waiting = null;
            }
        }
    }

    private async Task AcquireOutOfOrderAsync(RateLimitBatch batch)
    {
        // Every other call walks the items backwards, as a store ignoring LockOrder may.
        var count = batch.Count;
        var entries = new Entry[count];
        for (var i = 0; i < count; i++)
        {
            entries[i] = _buckets.GetOrAdd((batch.Items[i].Rule, batch.Items[i].Partition), _ => new Entry(Interlocked.Increment(ref _created)));
        }

        var backwards = Interlocked.Increment(ref _calls) % 2 == 0;
        for (var k = 0; k < count; k++)
        {
            await entries[backwards ? count - 1 - k : k].Gate.WaitAsync();
            await Task.Yield();
        }

        try
        {
            await DecideAsync(batch, CancellationToken.None);
        }
        finally
        {
            foreach (var entry in entries)
            {
                entry.Gate.Release();
            }
        }
    }

    private async Task DecideAsync(RateLimitBatch batch, CancellationToken cancellationToken)
    {
        var count = batch.Count;
        var now = batch.NowMs;
        if (!MakeRoom(batch))
        {
            batch.Results.Clear();
            batch.Admitted = false;
            batch.TableFull = true;
            batch.TableFullRetryAfterMs = 1000;
            return;
        }

        var entries = new Entry[count];
        var states = new BucketState[count];
        var excess = new long[count];
        var admitted = true;
        for (var i = 0; i < count; i++)
        {
            var item = batch.Items[i];
            entries[i] = _buckets.GetOrAdd((item.Rule, item.Partition), _ => new Entry(Interlocked.Increment(ref _created)));
            var state = entries[i].State;
            if (defect == Defect.ForgetsEarly && state.Exists && now - state.LastMs >= 1000)
            {
                state = default;
            }

            if (defect == Defect.FirstRequestCharged && !state.Exists)
            {
                state = new BucketState { Exists = true, LastMs = now };
            }

            states[i] = state;
            excess[i] = LeakyBucket.Evaluate(item.Rule, state, item.CostMilli, now, out batch.Results[i]);
            if (defect == Defect.NoDelay)
            {
                batch.Results[i].DelayMs = 0;
            }

            admitted &= batch.Results[i].Admitted;
        }

        batch.Admitted = admitted;
        if (defect == Defect.Racy)
        {
            await RendezvousAsync();
        }

        for (var i = 0; i < count; i++)
        {
            if (!admitted && !(defect == Defect.NotAllOrNothing && batch.Results[i].Admitted))
            {
                continue;
            }

            LeakyBucket.Commit(ref states[i], excess[i], now);
            if (defect == Defect.BackwardsMovesLast)
            {
                states[i].LastMs = now;
            }

            entries[i].State = states[i];
            if (defect == Defect.PartialOnCancel && cancellationToken.IsCancellationRequested)
            {
                throw new OperationCanceledException(cancellationToken);
            }
        }
    }

    /// <summary>Makes room for the batch's new buckets by forgetting idle ones; false when there is none to forget.</summary>
    private bool MakeRoom(RateLimitBatch batch)
    {
        for (var i = 0; i < batch.Count; i++)
        {
            var item = batch.Items[i];
            if (_buckets.ContainsKey((item.Rule, item.Partition)) || _buckets.Count < maxBuckets)
            {
                continue;
            }

            if (defect == Defect.NeverForgets)
            {
                return false;
            }

            var victim = default(KeyValuePair<(RateLimitRule, PartitionKey), Entry>?);
            foreach (var pair in _buckets)
            {
                if (defect == Defect.EvictsLive ? victim is null || pair.Value.Created < victim.Value.Value.Created : LeakyBucket.IsIdle(pair.Key.Item1, pair.Value.State, batch.NowMs))
                {
                    victim = pair;
                    if (defect != Defect.EvictsLive)
                    {
                        break;
                    }
                }
            }

            if (victim is null)
            {
                return false;
            }

            _buckets.TryRemove(victim.Value.Key, out _);
        }

        return true;
    }

    private sealed class Entry(long created)
    {
        public readonly SemaphoreSlim Gate = new(1, 1);
        public readonly long Created = created;
        public BucketState State;
    }
}
