using System.Collections.Concurrent;
using Microsoft.AspNetCore.Http;

namespace AiEdge.Middleware.Concurrency.Internal;

/// <summary>
/// A configured tier at run time: its gates (one, or one per partition), its limit (fixed or adaptive), the recent
/// service time its <c>Retry-After</c> estimates come from, and its store.
/// </summary>
internal sealed class TierState
{
    private static readonly TimeSpan SweepInterval = TimeSpan.FromMinutes(1);

    private readonly ConcurrentDictionary<string, ConcurrencyGate>? _partitions;
    private readonly Action<Exception, string> _onStoreFailed;
    private readonly Dictionary<string, int> _priorities;
    private readonly TimeProvider _time;
    private readonly int _levels;
    private long _serviceTicks;
    private long _nextSweep;

    public TierState(
        string name,
        ConcurrencyTier tier,
        Dictionary<string, int> priorities,
        int starvationLimit,
        TimeSpan leaseDuration,
        IConcurrencyStore store,
        TimeProvider time,
        Action<Exception, string> onStoreFailed)
    {
        Name = name;
        Limit = tier.Limit;
        QueueLimit = tier.QueueLimit;
        QueueTimeout = tier.QueueTimeout;
        Partition = tier.Partition;
        StarvationLimit = starvationLimit;
        LeaseDuration = leaseDuration;
        Store = store;
        _time = time;
        _onStoreFailed = onStoreFailed;
        _priorities = priorities;
        _levels = priorities.Count + 1;
        if (tier.Adaptive.Enabled)
        {
            Adaptive = new AdaptiveLimit(tier.Limit, tier.Adaptive.MinLimit, tier.Adaptive.MaxLimit, tier.Adaptive.Tolerance, tier.Adaptive.BackoffRatio);
        }

        if (Partition == ConcurrencyPartitionKind.None)
        {
            Shared = new ConcurrencyGate(this, "concurrency:" + name, _levels);
        }
        else
        {
            _partitions = new ConcurrentDictionary<string, ConcurrencyGate>(StringComparer.Ordinal);
            _nextSweep = time.GetTimestamp() + (long)(SweepInterval.TotalSeconds * time.TimestampFrequency);
        }
    }

    public string Name { get; }

    public int Limit { get; }

    public int QueueLimit { get; }

    public TimeSpan QueueTimeout { get; }

    public ConcurrencyPartitionKind Partition { get; }

    public int StarvationLimit { get; }

    public TimeSpan LeaseDuration { get; }

    public IConcurrencyStore Store { get; }

    public AdaptiveLimit? Adaptive { get; }

    /// <summary>Gets the one gate of a tier without partition.</summary>
    public ConcurrencyGate? Shared { get; }

    public bool Partitioned => Shared is null;

    /// <summary>Gets the limit now: the adaptive one when enabled, else the configured one.</summary>
    public int CurrentLimit => Adaptive?.Current ?? Limit;

    /// <summary>Gets the average service time of recent requests (exponentially weighted, 1/8 per sample), in timestamp ticks.</summary>
    public long ServiceTicks => Volatile.Read(ref _serviceTicks);

    /// <summary>Gets the requests queued and in flight over every gate.</summary>
    public (int InFlight, int Queued) Totals()
    {
        if (Shared is not null)
        {
            return (Shared.InFlight, Shared.Queued);
        }

        int inFlight = 0, queued = 0;
        foreach (var (_, gate) in _partitions!)
        {
            inFlight += gate.InFlight;
            queued += gate.Queued;
        }

        return (inFlight, queued);
    }

    /// <summary>The queue level of <paramref name="plan"/>: its place in the plan priority, or last.</summary>
    public int LevelOf(string? plan)
        => plan is not null && _priorities.TryGetValue(plan, out var level) ? level : _levels - 1;

    /// <summary>The gate the request uses, entered (the caller must <see cref="ConcurrencyGate.Exit"/> it).</summary>
    public ConcurrencyGate Enter(HttpContext context)
    {
        if (Shared is not null)
        {
            Shared.Enter();
            return Shared;
        }

        var now = _time.GetTimestamp();
        if (now >= Volatile.Read(ref _nextSweep))
        {
            Sweep(now);
        }

        var key = "concurrency:" + Name + ":" + PartitionOf(context);
        while (true)
        {
            var gate = _partitions!.TryGetValue(key, out var found) ? found : _partitions.GetOrAdd(key, static (k, tier) => new ConcurrencyGate(tier, k, tier._levels), this);
            if (gate.Enter())
            {
                return gate;
            }

            _partitions.TryRemove(new KeyValuePair<string, ConcurrencyGate>(key, gate));
        }
    }

    /// <summary>The gate of the store key <paramref name="key"/> if this tier has one now, else <see langword="null"/>.</summary>
    public ConcurrencyGate? TryGetGate(string key)
    {
        if (Shared is not null)
        {
            return string.Equals(Shared.Key, key, StringComparison.Ordinal) ? Shared : null;
        }

        return _partitions!.TryGetValue(key, out var gate) ? gate : null;
    }

    /// <summary>A request that held a slot completed after <paramref name="ticks"/>; returns the change of an adaptive limit.</summary>
    public int Completed(long ticks, int inFlight)
    {
        var current = Volatile.Read(ref _serviceTicks);
        Volatile.Write(ref _serviceTicks, current == 0 ? ticks : current + ((ticks - current) / 8));
        return Adaptive?.OnSample(ticks, inFlight) ?? 0;
    }

    /// <summary>
    /// Whole seconds until a slot is likely free for a request with <paramref name="ahead"/> requests queued before it:
    /// the recent service time times the rounds of the limit the queue needs, rounded up, at least 1.
    /// </summary>
    public long RetryAfterSeconds(int ahead)
    {
        var service = ServiceTicks;
        if (service <= 0)
        {
            return 1;
        }

        var rounds = (ahead / (double)Math.Max(1, CurrentLimit)) + 1;
        var seconds = service * rounds / _time.TimestampFrequency;
        return Math.Max(1, (long)Math.Ceiling(seconds));
    }

    public void StoreFailed(Exception exception) => _onStoreFailed(exception, Name);

    /// <summary>Wakes every gate's queue (after an adaptive limit rose).</summary>
    public void PumpAll()
    {
        if (Shared is not null)
        {
            _ = Shared.PumpAsync();
            return;
        }

        foreach (var (_, gate) in _partitions!)
        {
            if (gate.Queued > 0)
            {
                _ = gate.PumpAsync();
            }
        }
    }

    private string PartitionOf(HttpContext context)
    {
        string? id = Partition switch
        {
            ConcurrencyPartitionKind.Caller => context.GetCallerId(),
            ConcurrencyPartitionKind.ApiKey => context.GetCallerApiKeyName() is { } keyName ? "key:" + keyName : null,
            ConcurrencyPartitionKind.Plan => "plan:" + (context.GetCallerPlan() ?? string.Empty),
            _ => null,
        };

        return id ?? "ip:" + (context.Connection.RemoteIpAddress?.ToString() ?? "unknown");
    }

    private void Sweep(long now)
    {
        var due = Volatile.Read(ref _nextSweep);
        var next = now + (long)(SweepInterval.TotalSeconds * _time.TimestampFrequency);
        if (now < due || Interlocked.CompareExchange(ref _nextSweep, next, due) != due)
        {
            return;
        }

        foreach (var (key, gate) in _partitions!)
        {
            if (gate.TryRetire())
            {
                _partitions.TryRemove(new KeyValuePair<string, ConcurrencyGate>(key, gate));
            }
        }
    }
}
