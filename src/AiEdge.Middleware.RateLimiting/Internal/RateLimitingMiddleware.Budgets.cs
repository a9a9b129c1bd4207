using AiEdge.Middleware.Internal;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace AiEdge.Middleware.RateLimiting.Internal;

internal sealed partial class RateLimitingMiddleware
{
    /// <summary>The path for token budgets and dry runs: reads the body estimate, reserves, observes the response, settles.</summary>
    private async Task InvokeWithBudgetsAsync(HttpContext context, EndpointLimits limits)
    {
        var estimate = limits.Budget is null ? null : await BodyEstimate.ReadAsync(context, limits.Budget);
        if (context.RequestAborted.IsCancellationRequested)
        {
            _metrics.ClientDisconnected("ratelimit");
            return;
        }

        await DryRunAsync(context, limits.DryRun, estimate, limits.EmitHeaders);

        var batch = _batches.Get();
        batch.NowMs = RateLimitClock.NowMs(_time);
        Fill(batch, context, limits.Enforced, estimate);
        try
        {
            if (batch.Count > 0)
            {
                await _store.AcquireAsync(batch, context.RequestAborted);
            }
            else
            {
                batch.Admitted = true;
            }
        }
        catch
        {
            _batches.Return(batch);
            throw;
        }

        if (!batch.Admitted)
        {
            await RejectAsync(context, limits, batch);
            return;
        }

        var charges = CollectCharges(context, limits.Enforced, batch, estimate);
        var delayMs = Report(context, limits, batch);
        _batches.Return(batch);

        if (delayMs > 0 && !await DelayAsync(context, delayMs))
        {
            await SettleAsync(context, charges, scanner: null, usage: null, abandoned: true);
            return;
        }

        if (charges is null)
        {
            await _next(context);
            return;
        }

        var scanner = new UsageScanner();
        var usage = new TokenUsageFeature();
        var original = RequestFeatures.Get<IHttpResponseBodyFeature>(context)!;
        var observer = new UsageObservingBody(original, scanner);
        RequestFeatures.Set<IHttpResponseBodyFeature>(context, observer);
        RequestFeatures.Set<ITokenUsageFeature>(context, usage);
        try
        {
            await _next(context);
            await observer.FinishAsync();
        }
        finally
        {
            RequestFeatures.Set(context, original);
            RequestFeatures.Set<ITokenUsageFeature>(context, null);
            await SettleAsync(context, charges, scanner, usage, abandoned: context.RequestAborted.IsCancellationRequested);
        }
    }

    private async Task DryRunAsync(HttpContext context, ResolvedTier[] tiers, BodyEstimate? estimate, bool emitHeaders)
    {
        if (tiers.Length == 0)
        {
            return;
        }

        var batch = _batches.Get();
        try
        {
            batch.NowMs = RateLimitClock.NowMs(_time);
            Fill(batch, context, tiers, estimate);
            await _store.AcquireAsync(batch, context.RequestAborted);
            if (batch.TableFull)
            {
                // No room for a dry run's new partition: nothing was decided or reserved.
                return;
            }

            var index = 0;
            foreach (var tier in tiers)
            {
                var rules = RulesFor(context, tier);
                var count = (rules.Requests is null ? 0 : 1) + (tier.Budget is null || rules.Tokens is null ? 0 : 1);
                long retryAfterMs = 0;
                var rejected = false;
                for (var k = 0; k < count; k++, index++)
                {
                    if (!batch.Results[index].Admitted)
                    {
                        rejected = true;
                        retryAfterMs = Math.Max(retryAfterMs, batch.Results[index].RetryAfterMs);
                    }
                }

                _metrics.RateLimitDecision(context, tier.Name, rejected ? DryRunRejected : Admitted);
                if (rejected)
                {
                    Log.DryRunRejected(_logger, tier.Name, RetryAfterSeconds(retryAfterMs));
                }
            }

            if (emitHeaders)
            {
                WriteDryRunHeaders(context, tiers, batch);
            }

            // A dry run's token reservation is returned at once: it never charges real usage.
            if (batch.Admitted)
            {
                for (var i = 0; i < batch.Count; i++)
                {
                    var item = batch.Items[i];
                    if (item.Rule.Unit == RateLimitUnit.Tokens && item.CostMilli > 0)
                    {
                        await _store.ReconcileAsync(item.Rule, item.Partition, -item.CostMilli, batch.NowMs, CancellationToken.None);
                    }
                }
            }
        }
        finally
        {
            _batches.Return(batch);
        }
    }

    private static TokenCharge[]? CollectCharges(HttpContext context, ResolvedTier[] tiers, RateLimitBatch batch, BodyEstimate? estimate)
    {
        List<TokenCharge>? charges = null;
        var index = 0;
        foreach (var tier in tiers)
        {
            var rules = RulesFor(context, tier);
            if (rules.Requests is not null)
            {
                index++;
            }

            if (rules.Tokens is not null && tier.Budget is not null)
            {
                ref readonly var item = ref batch.Items[index++];
                charges ??= [];
                charges.Add(new TokenCharge(tier, item.Rule, item.Partition, item.CostMilli / LeakyBucket.OneRequest, estimate?.PromptTokens(tier.Budget) ?? 0));
            }
        }

        return charges?.ToArray();
    }

    /// <summary>
    /// Settles each reservation against what the response used: the usage the endpoint reported through
    /// <see cref="ITokenUsageFeature"/>; else the <c>usage</c> in the response; else, when the endpoint reported the
    /// generated characters, the prompt estimate plus those characters over <c>CharsPerToken</c>; else, for a stream
    /// cut short or an abandoned request, the prompt plus the events produced; else nothing for an error status; else
    /// the reservation stands.
    /// </summary>
    private async Task SettleAsync(HttpContext context, TokenCharge[]? charges, UsageScanner? scanner, TokenUsageFeature? usage, bool abandoned)
    {
        if (charges is null)
        {
            return;
        }

        if (abandoned)
        {
            _metrics.ClientDisconnected("ratelimit");
        }

        var now = RateLimitClock.NowMs(_time);
        foreach (var charge in charges)
        {
            long used;
            if (usage is { ReportedTokens: >= 0 })
            {
                used = usage.ReportedTokens;
            }
            else if (scanner is { TotalTokens: >= 0 })
            {
                used = scanner.TotalTokens;
            }
            else if (usage is { CompletionCharacters: >= 0 } && charge.Tier.Budget is { } budget)
            {
                used = charge.PromptTokens + (usage.CompletionCharacters + budget.CharsPerToken - 1) / budget.CharsPerToken;
            }
            else if (scanner is null)
            {
                used = 0;
            }
            else if (abandoned || scanner.DataLines > 0)
            {
                used = charge.PromptTokens + Math.Max(scanner.DataLines - scanner.DoneMarkers, 0);
            }
            else if (context.Response.StatusCode >= 400)
            {
                used = 0;
            }
            else
            {
                used = charge.ReservedTokens;
            }

            var delta = (used - charge.ReservedTokens) * LeakyBucket.OneRequest;
            var remaining = await _store.ReconcileAsync(charge.Rule, charge.Partition, delta, now, CancellationToken.None);
            _metrics.TokensCharged(charge.Tier.Name, used, remaining);
            Log.TokensReconciled(_logger, charge.Tier.Name, charge.ReservedTokens, used, remaining);
        }

    }

    private sealed record TokenCharge(ResolvedTier Tier, RateLimitRule Rule, PartitionKey Partition, long ReservedTokens, long PromptTokens);
}
