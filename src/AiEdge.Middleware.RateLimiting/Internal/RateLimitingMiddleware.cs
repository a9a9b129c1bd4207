using System.Globalization;
using AiEdge.Middleware.Internal;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.ObjectPool;
using Microsoft.Extensions.Primitives;

namespace AiEdge.Middleware.RateLimiting.Internal;

/// <summary>
/// Decides every request of a limited endpoint against its tiers (NGINX <c>limit_req</c> semantics), answers
/// rejections with 429 problem details and an exact <c>Retry-After</c>, delays queued requests without holding a
/// thread, writes the IETF RateLimit fields, and settles token budgets against the response's real usage.
/// </summary>
internal sealed partial class RateLimitingMiddleware
{
    internal const string PolicyHeader = "RateLimit-Policy";
    internal const string RateLimitHeader = "RateLimit";
    private const string QuotaExceededTitle = "Request cannot be satisfied as assigned quota has been exceeded";
    private const string TableFullTitle = "Request cannot be satisfied due to temporary server capacity constraints";
    private const long TableFullLogIntervalMs = 10_000;
    private const string Admitted = "admitted";
    private const string Delayed = "delayed";
    private const string Rejected = "rejected";
    private const string DryRunRejected = "dry_run";
    private const string TableFull = "table_full";
    private const string DryRunParameter = ";aiedge-dry-run";

    private readonly RequestDelegate _next;
    private readonly TierRegistry _tiers;
    private readonly IRateLimitStore _store;
    private readonly RateLimitingMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ObjectPool<RateLimitBatch> _batches = new DefaultObjectPool<RateLimitBatch>(new BatchPolicy(), 256);
    private readonly Func<object, Task> _dropFieldsOfOtherRejections;

    // "Partition table full" is logged at most once per TableFullLogIntervalMs, with the refusals since the last line.
    private long _tableFullLoggedAtMs = long.MinValue;
    private long _tableFullUnlogged;

    public RateLimitingMiddleware(
        RequestDelegate next,
        TierRegistry tiers,
        IRateLimitStore store,
        RateLimitingMetrics metrics,
        TimeProvider time,
        ILogger<RateLimitingMiddleware> logger,
        IEnumerable<EndpointDataSource> endpointSources)
    {
        _next = next;
        _tiers = tiers;
        _store = store;
        _metrics = metrics;
        _time = time;
        _logger = logger;
        _dropFieldsOfOtherRejections = DropFieldsOfOtherRejections;

        // Every endpoint known now is checked, so an unknown tier name fails at startup rather than on first use.
        var snapshot = tiers.Current;
        foreach (var source in endpointSources)
        {
            foreach (var endpoint in source.Endpoints)
            {
                snapshot.Endpoints[endpoint] = Resolve(snapshot, endpoint);
            }
        }
    }

    public Task InvokeAsync(HttpContext context)
    {
        var endpoint = RequestFeatures.Endpoint(context);
        if (endpoint?.Metadata.GetMetadata<IRateLimitTierMetadata>() is null)
        {
            return _next(context);
        }

        // One read of the tiers in effect: a reload swaps the whole snapshot, never part of it under a request.
        var snapshot = _tiers.Current;
        var limits = snapshot.Endpoints.TryGetValue(endpoint, out var known) ? known : snapshot.Endpoints.GetOrAdd(endpoint, Resolve(snapshot, endpoint));
        if (limits.IsEmpty)
        {
            return _next(context);
        }

        return limits.NeedsAsyncPath ? InvokeWithBudgetsAsync(context, limits) : Decide(context, limits);
    }

    private static EndpointLimits Resolve(TierSnapshot snapshot, Endpoint endpoint)
    {
        var metadata = endpoint.Metadata.GetOrderedMetadata<IRateLimitTierMetadata>();
        if (metadata.Count == 0
            || endpoint.Metadata.GetMetadata<IDisableRateLimitingMetadata>() is not null
            || endpoint.Metadata.GetMetadata<DisableRateLimitingAttribute>() is not null)
        {
            return EndpointLimits.None;
        }

        var enforced = new List<ResolvedTier>();
        var dryRun = new List<ResolvedTier>();
        foreach (var item in metadata)
        {
            if (!snapshot.TryGet(item.TierName, out var tier))
            {
                throw new InvalidOperationException(
                    "The endpoint '" + endpoint.DisplayName + "' uses the rate-limit tier '" + item.TierName
                    + "', which is not configured: add AiEdge:RateLimiting:Tiers:" + item.TierName + " (with a Rate such as \"10r/s\").");
            }

            var list = tier.DryRun ? dryRun : enforced;
            if (!list.Contains(tier))
            {
                list.Add(tier);
            }
        }

        enforced.Sort(static (a, b) => a.Ordinal.CompareTo(b.Ordinal));
        dryRun.Sort(static (a, b) => a.Ordinal.CompareTo(b.Ordinal));
        return new EndpointLimits([.. enforced], [.. dryRun], snapshot.RejectionStatusCode, snapshot.EmitHeaders);
    }

    /// <summary>The request-tier path: synchronous and allocation-free when the store answers synchronously.</summary>
    private Task Decide(HttpContext context, EndpointLimits limits)
    {
        var batch = _batches.Get();
        batch.NowMs = RateLimitClock.NowMs(_time);
        Fill(batch, context, limits.Enforced, null);
        var pending = _store.AcquireAsync(batch, context.RequestAborted);
        if (!pending.IsCompletedSuccessfully)
        {
            return DecideSlowAsync(pending, batch, context, limits);
        }

        pending.GetAwaiter().GetResult();
        return Conclude(context, limits, batch);
    }

    private async Task DecideSlowAsync(ValueTask pending, RateLimitBatch batch, HttpContext context, EndpointLimits limits)
    {
        try
        {
            await pending;
        }
        catch
        {
            _batches.Return(batch);
            throw;
        }

        await Conclude(context, limits, batch);
    }

    private Task Conclude(HttpContext context, EndpointLimits limits, RateLimitBatch batch)
    {
        if (!batch.Admitted)
        {
            return RejectAsync(context, limits, batch);
        }

        var delayMs = Report(context, limits, batch);
        _batches.Return(batch);
        return delayMs > 0 ? DelayThenNextAsync(context, delayMs) : _next(context);
    }

    /// <summary>Writes the RateLimit fields and metrics of an admitted batch; returns the longest delay.</summary>
    private long Report(HttpContext context, EndpointLimits limits, RateLimitBatch batch)
    {
        var tiers = limits.Enforced;
        long delayMs = 0;
        for (var i = 0; i < batch.Count; i++)
        {
            delayMs = Math.Max(delayMs, batch.Results[i].DelayMs);
        }

        var decision = delayMs > 0 ? Delayed : Admitted;
        foreach (var tier in tiers)
        {
            _metrics.RateLimitDecision(context, tier.Name, decision);
        }

        if (limits.EmitHeaders)
        {
            WriteHeaders(context, tiers, batch, afterDryRun: limits.DryRun.Length > 0);

            // Something after the edge (ASP.NET Core's UseRateLimiter, say) may still refuse the request; the fields
            // then describe AiEdge's admission, not that refusal, and go. One cached delegate, the context as state.
            context.Response.OnStarting(_dropFieldsOfOtherRejections, context);
        }

        if (delayMs > 0)
        {
            Log.RequestDelayed(_logger, tiers[0].Name, delayMs);
        }

        return delayMs;
    }

    /// <summary>
    /// Removes the RateLimit fields of an admitted request from a response that another part of the app refused with
    /// 429 (or AiEdge's rejection status): they would claim requests remain on a refusal AiEdge did not make.
    /// </summary>
    private Task DropFieldsOfOtherRejections(object state)
    {
        var response = ((HttpContext)state).Response;
        if (response.StatusCode == StatusCodes.Status429TooManyRequests || response.StatusCode == _tiers.Current.RejectionStatusCode)
        {
            response.Headers.Remove(PolicyHeader);
            response.Headers.Remove(RateLimitHeader);
        }

        return Task.CompletedTask;
    }

    private async Task DelayThenNextAsync(HttpContext context, long delayMs)
    {
        if (!await DelayAsync(context, delayMs))
        {
            return;
        }

        await _next(context);
    }

    /// <summary>Waits on a timer (no thread held); returns false when the client went away meanwhile.</summary>
    private async Task<bool> DelayAsync(HttpContext context, long delayMs)
    {
        var aborted = context.RequestAborted;
        await Task.Delay(TimeSpan.FromMilliseconds(delayMs), _time, aborted).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        if (aborted.IsCancellationRequested)
        {
            Log.QueuedRequestAbandoned(_logger);
            _metrics.ClientDisconnected("ratelimit");
            return false;
        }

        return true;
    }

    private Task RejectAsync(HttpContext context, EndpointLimits limits, RateLimitBatch batch)
    {
        var tiers = limits.Enforced;
        if (batch.TableFull)
        {
            return RefuseTableFullAsync(context, limits, batch);
        }

        long retryAfterMs = 0;
        var violated = new List<string>(1);
        var index = 0;
        foreach (var tier in tiers)
        {
            var tierRejected = false;
            var rules = RulesFor(context, tier);
            var count = (rules.Requests is null ? 0 : 1) + (tier.Budget is null || rules.Tokens is null ? 0 : 1);
            for (var k = 0; k < count; k++, index++)
            {
                ref var result = ref batch.Results[index];
                if (!result.Admitted)
                {
                    tierRejected = true;
                    retryAfterMs = Math.Max(retryAfterMs, result.RetryAfterMs);
                }
            }

            if (tierRejected)
            {
                violated.Add(tier.Name);
                _metrics.RateLimitDecision(context, tier.Name, Rejected);
            }
        }

        var seconds = RetryAfterSeconds(retryAfterMs);
        if (limits.EmitHeaders)
        {
            WriteHeaders(context, tiers, batch, afterDryRun: limits.DryRun.Length > 0);
        }

        _batches.Return(batch);
        _metrics.RetryAfterIssued(violated[0], seconds);
        Log.RequestRejected(_logger, violated[0], seconds);
        context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        return AiEdgeProblems.WriteAsync(
            context,
            limits.RejectionStatusCode,
            QuotaExceededTitle,
            "The rate limit of " + string.Join(", ", violated) + " is exhausted; retry after " + seconds.ToString(CultureInfo.InvariantCulture) + " s.",
            RateLimitingDefaults.QuotaExceededProblemType,
            [new KeyValuePair<string, object?>("violated-policies", violated.ToArray())]);
    }

    /// <summary>
    /// Refuses a request whose partition has no bucket while the store's table is full of live buckets (NGINX's
    /// <c>limit_req</c> with a full zone): the rejection status, <c>Retry-After</c> until the store expects room,
    /// <c>r=0</c>, counted per tier and logged at most once per interval.
    /// </summary>
    private Task RefuseTableFullAsync(HttpContext context, EndpointLimits limits, RateLimitBatch batch)
    {
        var tiers = limits.Enforced;
        var seconds = RetryAfterSeconds(batch.TableFullRetryAfterMs);
        var names = new string[tiers.Length];
        var policies = new string[tiers.Length];
        var values = new string[tiers.Length];
        for (var i = 0; i < tiers.Length; i++)
        {
            var rules = RulesFor(context, tiers[i]);
            names[i] = tiers[i].Name;
            policies[i] = rules.PolicyValue;
            values[i] = rules.FormatRateLimit(0, seconds, rules.Tokens is null || tiers[i].Budget is null ? -1 : 0);
            _metrics.RateLimitDecision(context, tiers[i].Name, TableFull);
            _metrics.RateLimitTableFull(tiers[i].Name);
        }

        _batches.Return(batch);
        LogTableFull(tiers[0].Name);
        if (limits.EmitHeaders)
        {
            context.Response.Headers[PolicyHeader] = new StringValues(policies);
            context.Response.Headers[RateLimitHeader] = new StringValues(values);
        }

        _metrics.RetryAfterIssued(names[0], seconds);
        var text = seconds.ToString(CultureInfo.InvariantCulture);
        context.Response.Headers.RetryAfter = text;
        return AiEdgeProblems.WriteAsync(
            context,
            limits.RejectionStatusCode,
            TableFullTitle,
            "The rate limiter is tracking as many clients as it can; retry after " + text + " s.",
            RateLimitingDefaults.ReducedCapacityProblemType,
            [new KeyValuePair<string, object?>("violated-policies", names)]);
    }

    private void LogTableFull(string tier)
    {
        Interlocked.Increment(ref _tableFullUnlogged);
        var now = RateLimitClock.NowMs(_time);
        var last = Interlocked.Read(ref _tableFullLoggedAtMs);
        if (last != long.MinValue && now - last < TableFullLogIntervalMs)
        {
            return;
        }

        if (Interlocked.CompareExchange(ref _tableFullLoggedAtMs, now, last) == last)
        {
            Log.PartitionTableFull(_logger, tier, Interlocked.Exchange(ref _tableFullUnlogged, 0));
        }
    }

    /// <summary>Adds the items of <paramref name="tiers"/> to the batch, in lock order (tier, then requests before tokens).</summary>
    private static void Fill(RateLimitBatch batch, HttpContext context, ResolvedTier[] tiers, BodyEstimate? estimate)
    {
        foreach (var tier in tiers)
        {
            var rules = RulesFor(context, tier);
            var partition = Partition(context, tier);
            if (rules.Requests is not null)
            {
                batch.Add(rules.Requests, partition, LeakyBucket.OneRequest);
            }

            if (rules.Tokens is not null && tier.Budget is not null)
            {
                var tokens = estimate is null ? 0 : estimate.TokensFor(tier.Budget);
                batch.Add(rules.Tokens, partition, Math.Min(tokens * LeakyBucket.OneRequest, rules.Tokens.CapacityMilli));
            }
        }
    }

    private static RuleSet RulesFor(HttpContext context, ResolvedTier tier)
        => tier.HasPlans ? tier.ForPlan(context.GetCallerPlan()) : tier.Default;

    internal static PartitionKey Partition(HttpContext context, ResolvedTier tier)
    {
        string? id = tier.Partition switch
        {
            RateLimitPartitionKind.Caller => context.GetCallerId(),
            RateLimitPartitionKind.ApiKey => context.GetCallerApiKeyName(),
            RateLimitPartitionKind.Claim => ClaimPartition(context, tier.PartitionClaim!),
            RateLimitPartitionKind.Custom => tier.PartitionResolver!(context),
            _ => null,
        };

        return id is null ? PartitionKey.FromAddress(context.Connection.RemoteIpAddress, tier.IPv6PrefixLength) : PartitionKey.FromText(id);
    }

    /// <summary>The partition claim's value qualified by its issuer, so one claim value asserted by two issuers is two partitions.</summary>
    private static string? ClaimPartition(HttpContext context, string claimType)
    {
        var user = context.User;
        return user.Identity is { IsAuthenticated: true } && user.FindFirst(claimType) is { } claim
            ? AiEdgeCallerIds.Claim(claim.Issuer, claim.Value)
            : null;
    }

    /// <summary>
    /// Writes the RateLimit fields of <paramref name="tiers"/>; <paramref name="afterDryRun"/> keeps the dry-run
    /// tiers' members already written (after the enforced ones).
    /// </summary>
    private static void WriteHeaders(HttpContext context, ResolvedTier[] tiers, RateLimitBatch batch, bool afterDryRun = false)
    {
        var headers = context.Response.Headers;
        if (tiers.Length == 0)
        {
            return;
        }

        if (afterDryRun)
        {
            var dryPolicies = headers[PolicyHeader];
            var dryValues = headers[RateLimitHeader];
            WriteHeaders(context, tiers, batch);
            headers[PolicyHeader] = StringValues.Concat(headers[PolicyHeader], dryPolicies);
            headers[RateLimitHeader] = StringValues.Concat(headers[RateLimitHeader], dryValues);
            return;
        }

        if (tiers.Length == 1)
        {
            var rules = RulesFor(context, tiers[0]);
            headers[PolicyHeader] = rules.PolicyValue;
            headers[RateLimitHeader] = FormatItem(rules, tiers[0], batch, 0, out _);
            return;
        }

        var policies = new string[tiers.Length];
        var values = new string[tiers.Length];
        var index = 0;
        for (var i = 0; i < tiers.Length; i++)
        {
            var rules = RulesFor(context, tiers[i]);
            policies[i] = rules.PolicyValue;
            values[i] = FormatItem(rules, tiers[i], batch, index, out var used);
            index += used;
        }

        headers[PolicyHeader] = new StringValues(policies);
        headers[RateLimitHeader] = new StringValues(values);
    }

    /// <summary>
    /// Advertises dry-run tiers: one member each, marked with the <c>aiedge-dry-run</c> parameter (their quota is
    /// watched, never enforced).
    /// </summary>
    private static void WriteDryRunHeaders(HttpContext context, ResolvedTier[] tiers, RateLimitBatch batch)
    {
        var policies = new string[tiers.Length];
        var values = new string[tiers.Length];
        var index = 0;
        for (var i = 0; i < tiers.Length; i++)
        {
            var rules = RulesFor(context, tiers[i]);
            policies[i] = rules.PolicyValue + DryRunParameter;
            values[i] = FormatItem(rules, tiers[i], batch, index, out var used) + DryRunParameter;
            index += used;
        }

        context.Response.Headers[PolicyHeader] = new StringValues(policies);
        context.Response.Headers[RateLimitHeader] = new StringValues(values);
    }

    private static string FormatItem(RuleSet rules, ResolvedTier tier, RateLimitBatch batch, int index, out int used)
    {
        used = 0;
        long remaining = 0, nextMs = 0, tokens = -1;
        if (rules.Requests is not null)
        {
            // A refused request spent nothing: a rule that would have admitted it still has the unit it would have taken.
            ref var result = ref batch.Results[index + used++];
            remaining = batch.Admitted ? result.Remaining : result.Admitted ? result.Remaining + 1 : 0;
            nextMs = result.NextMs;
        }

        if (rules.Tokens is not null && tier.Budget is not null)
        {
            ref var result = ref batch.Results[index + used++];
            tokens = result.Remaining;
            if (rules.Requests is null)
            {
                remaining = tokens;
                nextMs = result.NextMs;
            }
        }

        // t (draft-ietf-httpapi-ratelimit-headers-11, effective window): the whole seconds during which no more than r
        // is available, i.e. until the next unit drains, rounded up as Retry-After is.
        return rules.FormatRateLimit(remaining, RetryAfterSeconds(nextMs), tokens);
    }

    /// <summary>Whole seconds for a wait of <paramref name="ms"/>: rounded up, at least 1 (never "retry now" for a wait).</summary>
    internal static long RetryAfterSeconds(long ms) => ms <= 1000 ? 1 : (ms + 999) / 1000;

    private sealed class BatchPolicy : PooledObjectPolicy<RateLimitBatch>
    {
        public override RateLimitBatch Create() => new();

        public override bool Return(RateLimitBatch obj)
        {
            obj.Reset();
            return true;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1101, LogLevel.Debug, "Request rejected by rate-limit tier {Tier}; Retry-After {RetryAfter} s.", EventName = "TierRejected")]
        public static partial void RequestRejected(ILogger logger, string tier, long retryAfter);

        [LoggerMessage(1102, LogLevel.Debug, "Request delayed {DelayMs} ms by rate-limit tier {Tier}.", EventName = "TierDelayed")]
        public static partial void RequestDelayed(ILogger logger, string tier, long delayMs);

        [LoggerMessage(1103, LogLevel.Information, "Dry run: rate-limit tier {Tier} would have rejected the request (Retry-After {RetryAfter} s).", EventName = "DryRunRejected")]
        public static partial void DryRunRejected(ILogger logger, string tier, long retryAfter);

        [LoggerMessage(1104, LogLevel.Debug, "The client went away while its request was queued by rate limiting.", EventName = "QueuedRequestAbandoned")]
        public static partial void QueuedRequestAbandoned(ILogger logger);

        [LoggerMessage(1106, LogLevel.Warning, "The rate-limit partition table is full of active buckets: {Refused} request(s) of new partitions refused since the last report (first tier {Tier}). Raise AiEdge:RateLimiting:MaxPartitions if this is legitimate traffic.", EventName = "PartitionTableFull")]
        public static partial void PartitionTableFull(ILogger logger, string tier, long refused);

        [LoggerMessage(1105, LogLevel.Debug, "Token budget of tier {Tier} settled: reserved {Reserved}, used {Used}, remaining {Remaining}.", EventName = "TokensReconciled")]
        public static partial void TokensReconciled(ILogger logger, string tier, long reserved, long used, long remaining);
    }
}
