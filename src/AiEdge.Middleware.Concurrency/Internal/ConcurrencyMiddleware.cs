using System.Collections.Concurrent;
using System.Globalization;
using AiEdge.Middleware.Internal;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;

namespace AiEdge.Middleware.Concurrency.Internal;

/// <summary>
/// Takes a slot of the endpoint's concurrency tier before the endpoint runs and gives it back when the endpoint
/// returns (a streamed response: when the stream ends or its client goes away), whatever the outcome. Over the limit a
/// request waits in the tier's bounded priority queue, or is refused with 503 (429 for a partitioned tier),
/// problem details and a <c>Retry-After</c> estimated from recent service times and the queue ahead.
/// </summary>
internal sealed partial class ConcurrencyMiddleware
{
    private const string OverloadedTitle = "The service is at capacity";
    private const string PartitionTitle = "Too many requests in flight";

    private readonly RequestDelegate _next;
    private readonly ConcurrencyTierRegistry _tiers;
    private readonly IConcurrencyStore _store;
    private readonly LeaseRenewer _renewer;
    private readonly ConcurrencyMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly TimeSpan _leaseDuration;
    private readonly ConcurrentDictionary<Endpoint, TierState?> _endpoints = new();

    public ConcurrencyMiddleware(
        RequestDelegate next,
        ConcurrencyTierRegistry tiers,
        IConcurrencyStore store,
        LeaseRenewer renewer,
        ConcurrencyMetrics metrics,
        TimeProvider time,
        ILogger<ConcurrencyMiddleware> logger,
        IEnumerable<EndpointDataSource> endpointSources)
    {
        _next = next;
        _tiers = tiers;
        _store = store;
        _renewer = renewer;
        _metrics = metrics;
        _time = time;
        _logger = logger;
        _leaseDuration = tiers.Options.LeaseDuration;
        metrics.Observe(tiers);

        // Every endpoint known now is checked, so an unknown tier name fails at startup rather than on first use.
        foreach (var source in endpointSources)
        {
            foreach (var endpoint in source.Endpoints)
            {
                _endpoints[endpoint] = Resolve(endpoint);
            }
        }
    }

    public Task InvokeAsync(HttpContext context)
    {
        var endpoint = RequestFeatures.Endpoint(context);
        if (endpoint?.Metadata.GetMetadata<IConcurrencyTierMetadata>() is null)
        {
            return _next(context);
        }

        var tier = _endpoints.TryGetValue(endpoint, out var known) ? known : _endpoints.GetOrAdd(endpoint, Resolve(endpoint));
        if (tier is null)
        {
            return _next(context);
        }

        var gate = tier.Enter(context);
        if (gate.Queued > 0)
        {
            // Others wait already: a newcomer never overtakes them.
            return QueueAsync(context, tier, gate);
        }

        ValueTask<ConcurrencyLease> pending;
        try
        {
            pending = _store.TryAcquireAsync(gate.Key, tier.CurrentLimit, _leaseDuration, context.RequestAborted);
        }
        catch (Exception exception)
        {
            pending = ValueTask.FromException<ConcurrencyLease>(exception);
        }

        if (!pending.IsCompletedSuccessfully)
        {
            return AcquireSlowAsync(context, tier, gate, pending);
        }

        var lease = pending.Result;
        return lease.Acquired ? RunAsync(context, tier, gate, lease.Id, ConcurrencyMetrics.Admitted) : QueueAsync(context, tier, gate);
    }

    private TierState? Resolve(Endpoint endpoint)
    {
        var metadata = endpoint.Metadata.GetMetadata<IConcurrencyTierMetadata>();
        if (metadata is null || endpoint.Metadata.GetMetadata<IDisableConcurrencyMetadata>() is not null)
        {
            return null;
        }

        if (!_tiers.TryGet(metadata.TierName, out var tier))
        {
            throw new InvalidOperationException(
                "The endpoint '" + endpoint.DisplayName + "' uses the concurrency tier '" + metadata.TierName
                + "', which is not configured: add AiEdge:Concurrency:Tiers:" + metadata.TierName + " (with a Limit such as 4).");
        }

        return tier;
    }

    private async Task AcquireSlowAsync(HttpContext context, TierState tier, ConcurrencyGate gate, ValueTask<ConcurrencyLease> pending)
    {
        ConcurrencyLease lease;
        try
        {
            lease = await pending.ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            gate.Exit();
            _metrics.ClientDisconnected(context, tier.Name);
            return;
        }
        catch (Exception exception)
        {
            // Fail-open, as the other stores: the request runs without a slot rather than failing for the store.
            gate.Exit();
            tier.StoreFailed(exception);
            _metrics.Decided(context, tier.Name, ConcurrencyMetrics.StoreFailed);
            await _next(context).ConfigureAwait(false);
            return;
        }

        await (lease.Acquired ? RunAsync(context, tier, gate, lease.Id, ConcurrencyMetrics.Admitted) : QueueAsync(context, tier, gate)).ConfigureAwait(false);
    }

    /// <summary>Runs the endpoint holding the slot <paramref name="leaseId"/>, and gives the slot back whatever happens.</summary>
    private async Task RunAsync(HttpContext context, TierState tier, ConcurrencyGate gate, long leaseId, string decision)
    {
        var handle = _renewer.Register(tier.Name, gate.Key, leaseId);
        gate.SlotTaken();
        _metrics.SlotTaken(tier.Name);
        _metrics.Decided(context, tier.Name, decision);
        var start = _time.GetTimestamp();
        try
        {
            await _next(context).ConfigureAwait(false);
        }
        finally
        {
            var inFlight = gate.SlotReleased();
            _metrics.SlotReleased(tier.Name);
            _renewer.Unregister(handle);
            var change = tier.Completed(_time.GetTimestamp() - start, inFlight);
            if (change != 0)
            {
                Log.LimitChanged(_logger, tier.Name, tier.CurrentLimit - change, tier.CurrentLimit);
            }

            await ReleaseAsync(tier, gate, leaseId).ConfigureAwait(false);
            if (change > 0)
            {
                tier.PumpAll();
            }
        }
    }

    private async ValueTask ReleaseAsync(TierState tier, ConcurrencyGate gate, long leaseId)
    {
        try
        {
            await _store.ReleaseAsync(gate.Key, leaseId, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception exception)
        {
            // The lease expires in the store by itself.
            tier.StoreFailed(exception);
        }
        finally
        {
            gate.Exit();
        }

        if (gate.Queued > 0)
        {
            await gate.PumpAsync().ConfigureAwait(false);
        }
    }

    private async Task QueueAsync(HttpContext context, TierState tier, ConcurrencyGate gate)
    {
        if (tier.QueueLimit == 0 || tier.QueueTimeout <= TimeSpan.Zero)
        {
            gate.Exit();
            await RejectAsync(context, tier, gate.Queued, ConcurrencyMetrics.QueueFull).ConfigureAwait(false);
            return;
        }

        var waiter = new Waiter(gate, tier.LevelOf(context.GetCallerPlan()));
        var ahead = gate.TryEnqueue(waiter, tier.QueueLimit);
        if (ahead < 0)
        {
            gate.Exit();
            await RejectAsync(context, tier, tier.QueueLimit, ConcurrencyMetrics.QueueFull).ConfigureAwait(false);
            return;
        }

        var start = _time.GetTimestamp();
        _metrics.Enqueued(tier.Name);
        Log.Queued(_logger, tier.Name, ahead);
        waiter.Start(_time, tier.QueueTimeout, context.RequestAborted);
        _ = gate.PumpAsync();
        await waiter.Task.ConfigureAwait(false);
        waiter.Stop();
        var waited = _time.GetElapsedTime(start).TotalSeconds;
        switch (waiter.State)
        {
            case Waiter.Granted:
                _metrics.Dequeued(context, tier.Name, ConcurrencyMetrics.Queued, waited);
                await RunAsync(context, tier, gate, waiter.LeaseId, ConcurrencyMetrics.Queued).ConfigureAwait(false);
                return;
            case Waiter.TimedOut:
                _metrics.Dequeued(context, tier.Name, ConcurrencyMetrics.QueueTimeout, waited);
                // Those that timed out together with it leave with it: they are not the queue it leaves behind.
                var behind = gate.QueuedWaitingAt(_time.GetTimestamp());
                gate.Exit();
                await RejectAsync(context, tier, behind, ConcurrencyMetrics.QueueTimeout).ConfigureAwait(false);
                return;
            default:
                _metrics.Dequeued(context, tier.Name, ConcurrencyMetrics.Abandoned, waited);
                gate.Exit();
                Log.QueueAbandoned(_logger, tier.Name);
                _metrics.ClientDisconnected(context, tier.Name);
                return;
        }
    }

    private Task RejectAsync(HttpContext context, TierState tier, int ahead, string reason)
    {
        var seconds = tier.RetryAfterSeconds(ahead);
        var text = seconds.ToString(CultureInfo.InvariantCulture);
        _metrics.Refused(context, tier.Name, reason);
        Log.Rejected(_logger, tier.Name, reason, seconds);
        context.Response.Headers.RetryAfter = text;
        var partitioned = tier.Partitioned;
        var detail = reason == ConcurrencyMetrics.QueueTimeout
            ? "No slot of " + tier.Name + " came free within " + tier.QueueTimeout.TotalSeconds.ToString(CultureInfo.InvariantCulture) + " s; retry after " + text + " s."
            : partitioned
                ? "Your requests in flight fill your share of " + tier.Name + "; retry after " + text + " s."
                : "Every slot of " + tier.Name + " is busy and its queue is full; retry after " + text + " s.";
        return AiEdgeProblems.WriteAsync(
            context,
            partitioned ? ConcurrencyDefaults.PartitionRejectionStatusCode : ConcurrencyDefaults.OverloadedStatusCode,
            partitioned ? PartitionTitle : OverloadedTitle,
            detail,
            partitioned ? ConcurrencyDefaults.PartitionProblemType : ConcurrencyDefaults.OverloadedProblemType,
            [new KeyValuePair<string, object?>("concurrency-tier", tier.Name), new KeyValuePair<string, object?>("reason", reason)]);
    }

    private static partial class Log
    {
        [LoggerMessage(2101, LogLevel.Debug, "Request refused by concurrency tier {Tier} ({Reason}); Retry-After {RetryAfter} s.", EventName = "ConcurrencyRejected")]
        public static partial void Rejected(ILogger logger, string tier, string reason, long retryAfter);

        [LoggerMessage(2102, LogLevel.Debug, "Request queued by concurrency tier {Tier} behind {Ahead} request(s).", EventName = "ConcurrencyQueued")]
        public static partial void Queued(ILogger logger, string tier, int ahead);

        [LoggerMessage(2103, LogLevel.Debug, "The client went away while its request was queued by concurrency tier {Tier}.", EventName = "ConcurrencyQueueAbandoned")]
        public static partial void QueueAbandoned(ILogger logger, string tier);

        [LoggerMessage(2105, LogLevel.Debug, "The adaptive limit of concurrency tier {Tier} changed from {Previous} to {Current}.", EventName = "ConcurrencyLimitChanged")]
        public static partial void LimitChanged(ILogger logger, string tier, int previous, int current);
    }
}
