using System.Globalization;
using AiEdge.Middleware.RateLimiting;

namespace AiEdge.Middleware.Conformance.Internal;

/// <summary>The bodies of <see cref="RateLimitStoreConformance"/>'s checks.</summary>
internal sealed class RateLimitStoreChecks(RateLimitStoreConformanceOptions options)
{
    // An arbitrary start of the caller's clock; a store must not assume the clock starts anywhere.
    private const long Start = 5_000_000;

    // One unit a day: over the seconds a check takes this drains less than one milli-unit, so a store on its own
    // clock decides as if no time passed, and the products the arithmetic forms stay far below 2^53.
    private const long DayNumerator = 1000;
    private const long DayDenominator = 86_400_000;

    private readonly bool _exact = !options.UsesOwnClock;

    public ConformanceCheck Check(string name, Func<IRateLimitStore, CancellationToken, Task> body)
        => new(name, cancellationToken => StoreCheckRun.RunAsync(options.CreateStore, name, body, cancellationToken));

    public async Task RequestsTimelineAsync(IRateLimitStore store, CancellationToken cancellationToken)
    {
        var tier = Tier("timeline");
        RateLimitRule[] rules =
        [
            Requests(tier + "-10rps", 10_000, 1000, burst: 5, lockOrder: 0),
            Requests(tier + "-2rps-delay", 2000, 1000, burst: 4, delay: 1, lockOrder: 1),
            Requests(tier + "-30rpm", 500, 1000, burst: 0, lockOrder: 2),
            Requests(tier + "-5rph", 5000, 3_600_000, burst: 2, lockOrder: 3),
            Tokens(tier + "-600tpm", 600_000, 60_000, capacityTokens: 600, lockOrder: 4),
        ];
        PartitionKey[] partitions = [PartitionKey.FromText(tier + "-a"), PartitionKey.FromText(tier + "-b")];
        var model = new BucketModel();

        // NGINX's own numbers first: 10r/s burst=5 nodelay admits six at once, then refuses for 100 ms.
        var now = Start;
        for (var i = 0; i < 7; i++)
        {
            var actual = await DecideAsync(store, now, cancellationToken, (rules[0], partitions[0], 1000)).ConfigureAwait(false);
            var expected = model.Decide(now, (rules[0], partitions[0], 1000));
            Same("request " + (i + 1) + " at one instant", expected, actual);
            var want = i < 6;
            if (actual.Admitted != want || (want && actual.Results[0].Remaining != 5 - i) || (!want && actual.Results[0].RetryAfterMs != 100))
            {
                throw Fail("10r/s burst=5: request " + (i + 1) + " at one instant answered " + Describe(actual.Results[0]) + "; NGINX admits six (remaining 5 to 0) and refuses the seventh for 100 ms");
            }
        }

        long[] gaps = [0, 0, 0, 1, 7, 50, 99, 100, 101, 333, 1000, 2500, 30_000, 700_000, -1, -40];
        var random = new Random(20_240_611);
        for (var step = 0; step < 400; step++)
        {
            now += gaps[random.Next(gaps.Length)];
            var partition = partitions[random.Next(4) == 0 ? 1 : 0];
            if (random.Next(8) == 0)
            {
                var delta = (long)random.Next(-300, 301) * 1000;
                var remaining = await store.ReconcileAsync(rules[4], partition, delta, now, cancellationToken).ConfigureAwait(false);
                var wanted = model.Reconcile(rules[4], partition, delta, now);
                if (remaining != wanted)
                {
                    throw Fail("step " + step + ": reconciling " + delta + " milli-tokens returned " + remaining + " tokens; LeakyBucket.Reconcile gives " + wanted);
                }

                continue;
            }

            var count = 1 + random.Next(3);
            var first = random.Next(rules.Length);
            var items = new (RateLimitRule, PartitionKey, long)[count];
            for (var i = 0; i < count; i++)
            {
                var rule = rules[(first + i) % rules.Length];
                items[i] = (rule, partition, rule.Unit == RateLimitUnit.Tokens ? random.Next(0, 201) * 1000L : 1000);
            }

            var decided = await DecideAsync(store, now, cancellationToken, items).ConfigureAwait(false);
            Same("step " + step + " at " + now.ToString(CultureInfo.InvariantCulture) + " ms", model.Decide(now, items), decided);
        }
    }

    public async Task BurstAndDelayAsync(IRateLimitStore store, CancellationToken cancellationToken)
    {
        // 2r/s burst=4 delay=1: at one instant the first two pass at once, the next three wait 500, 1000 and 1500 ms,
        // the sixth is refused until 500 ms have drained one request; then the same request waits 1500 ms.
        var rule = Requests(Tier("delay"), 2000, 1000, burst: 4, delay: 1);
        var partition = PartitionKey.FromText("delay");
        var model = new BucketModel();
        (long At, bool Admitted, long DelayMs, long RetryAfterMs)[] steps =
        [
            (Start, true, 0, 0), (Start, true, 0, 0), (Start, true, 500, 0), (Start, true, 1000, 0), (Start, true, 1500, 0),
            (Start, false, 0, 500), (Start + 499, false, 0, 1), (Start + 500, true, 1500, 0), (Start + 500, false, 0, 500),
        ];
        for (var i = 0; i < steps.Length; i++)
        {
            var (at, admitted, delayMs, retryAfterMs) = steps[i];
            var actual = await DecideAsync(store, at, cancellationToken, (rule, partition, 1000)).ConfigureAwait(false);
            Same("request " + (i + 1), model.Decide(at, (rule, partition, 1000)), actual);
            var result = actual.Results[0];
            if (actual.Admitted != admitted || result.DelayMs != delayMs || result.RetryAfterMs != retryAfterMs)
            {
                throw Fail("2r/s burst=4 delay=1: request " + (i + 1) + " at +" + (at - Start) + " ms answered " + Describe(result)
                    + "; NGINX gives admitted=" + admitted + " delay=" + delayMs + " retry-after=" + retryAfterMs);
            }
        }
    }

    public async Task BackwardsAsync(IRateLimitStore store, CancellationToken cancellationToken)
    {
        var tier = Tier("backwards");
        var requests = Requests(tier, 1000, 1000, burst: 5, lockOrder: 0);
        var tokens = Tokens(tier + "-tokens", 1_000_000, 1000, capacityTokens: 100, lockOrder: 1);
        var partition = PartitionKey.FromText("backwards");
        var model = new BucketModel();
        (long At, long Cost)[] steps = [(10_000, 10_000), (10_000, 10_000), (9_000, 10_000), (9_500, 5_000), (10_500, 10_000), (10_200, 0), (11_000, 10_000)];
        for (var i = 0; i < steps.Length; i++)
        {
            var (at, cost) = steps[i];
            var now = Start + at;
            var actual = await DecideAsync(store, now, cancellationToken, (requests, partition, 1000), (tokens, partition, cost)).ConfigureAwait(false);
            Same("decision " + (i + 1) + " at +" + at + " ms", model.Decide(now, (requests, partition, 1000), (tokens, partition, cost)), actual);
            if (i == 3)
            {
                var remaining = await store.ReconcileAsync(tokens, partition, -3000, Start + 8_000, cancellationToken).ConfigureAwait(false);
                var wanted = model.Reconcile(tokens, partition, -3000, Start + 8_000);
                if (remaining != wanted)
                {
                    throw Fail("a reconciliation dated before the bucket's last change returned " + remaining + " tokens; as no time passing it is " + wanted);
                }
            }
        }
    }

    public async Task ExpiryAsync(IRateLimitStore store, CancellationToken cancellationToken)
    {
        // Two partitions exhausted alike; one is probed 1 ms before it is idle (it must still count what it holds),
        // the other when it is idle (it must decide exactly as a new bucket), a third long after.
        var tier = Tier("expiry");
        var requests = Requests(tier, 1000, 1000, burst: 3, lockOrder: 0);
        var tokens = Tokens(tier + "-tokens", 10_000, 1000, capacityTokens: 10, lockOrder: 1);
        PartitionKey[] partitions = [PartitionKey.FromText("early"), PartitionKey.FromText("idle"), PartitionKey.FromText("later")];
        var model = new BucketModel();
        foreach (var partition in partitions)
        {
            for (var i = 0; i < 4; i++)
            {
                var cost = i == 0 ? 10_000 : 0;
                var actual = await DecideAsync(store, Start, cancellationToken, (requests, partition, 1000), (tokens, partition, cost)).ConfigureAwait(false);
                Same("filling " + partition, model.Decide(Start, (requests, partition, 1000), (tokens, partition, cost)), actual);
            }
        }

        var state = new BucketState { ExcessMilli = 3000, LastMs = Start, Exists = true };
        var idleAt = LeakyBucket.IdleAtMs(requests, state);
        (PartitionKey Partition, long At)[] probes = [(partitions[0], idleAt - 1), (partitions[1], idleAt), (partitions[2], idleAt + 864_000_000)];
        foreach (var (partition, at) in probes)
        {
            var actual = await DecideAsync(store, at, cancellationToken, (requests, partition, 1000), (tokens, partition, 10_000)).ConfigureAwait(false);
            Same(partition + " at +" + (at - Start) + " ms (idle at +" + (idleAt - Start) + " ms)", model.Decide(at, (requests, partition, 1000), (tokens, partition, 10_000)), actual);
        }
    }

    public async Task TokensAsync(IRateLimitStore store, CancellationToken cancellationToken)
    {
        var tier = Tier("tokens");
        var rule = Tokens(tier, DayNumerator, DayDenominator, capacityTokens: 1000);
        var partition = PartitionKey.FromText("tokens");
        var model = new BucketModel();
        var now = Start;

        // remaining -1: as LeakyBucket computes it (an overspent bucket's is below zero).
        async Task Reserve(string step, long tokens, bool admitted, long remaining)
        {
            var actual = await DecideAsync(store, now, cancellationToken, (rule, partition, tokens * 1000)).ConfigureAwait(false);
            Same(step, model.Decide(now, (rule, partition, tokens * 1000)), actual);
            if (actual.Admitted != admitted || (remaining >= 0 && actual.Results[0].Remaining != remaining))
            {
                throw Fail(step + ": answered " + Describe(actual.Results[0]) + "; expected admitted=" + admitted + " remaining=" + remaining);
            }
        }

        async Task Reconcile(string step, PartitionKey target, long deltaTokens, long remaining)
        {
            var actual = await store.ReconcileAsync(rule, target, deltaTokens * 1000, now, cancellationToken).ConfigureAwait(false);
            var wanted = model.Reconcile(rule, target, deltaTokens * 1000, now);
            if (actual != remaining || actual != wanted)
            {
                throw Fail(step + ": ReconcileAsync returned " + actual + " tokens; expected " + remaining);
            }
        }

        await Reserve("reserving 600 of 1000 tokens", 600, true, 400).ConfigureAwait(false);
        await Reserve("reserving 600 more (only 400 left)", 600, false, 400).ConfigureAwait(false);
        await Reconcile("giving back 400 (the response used 200)", partition, -400, 800).ConfigureAwait(false);
        await Reserve("reserving 600 after the give-back", 600, true, 200).ConfigureAwait(false);
        await Reconcile("charging an overspend of 500 (past the capacity)", partition, 500, 0).ConfigureAwait(false);
        await Reserve("reserving 1 token while overspent", 1, false, -1).ConfigureAwait(false);
        await Reconcile("giving back more than the bucket holds (clamps at 0)", partition, -5000, 1000).ConfigureAwait(false);
        await Reserve("reserving the whole budget", 1000, true, 0).ConfigureAwait(false);
        var fresh = PartitionKey.FromText("tokens-fresh");
        await Reconcile("giving back on a bucket never charged", fresh, -50, 1000).ConfigureAwait(false);
        var other = PartitionKey.FromText("tokens-other");
        await Reconcile("charging a bucket never charged", other, 3, 997).ConfigureAwait(false);
    }

    public async Task AllOrNothingAsync(IRateLimitStore store, CancellationToken cancellationToken)
    {
        var tier = Tier("batch");
        var wide = Requests(tier + "-wide", DayNumerator, DayDenominator, burst: 3, lockOrder: 0);
        var narrow = Requests(tier + "-narrow", DayNumerator, DayDenominator, burst: 0, lockOrder: 1);
        var tokens = Tokens(tier + "-tokens", DayNumerator, DayDenominator, capacityTokens: 100, lockOrder: 2);
        var partition = PartitionKey.FromText("batch");
        var model = new BucketModel();
        var now = Start;

        async Task<RateLimitBatch> Decide(string step, params (RateLimitRule, PartitionKey, long)[] items)
        {
            var actual = await DecideAsync(store, now, cancellationToken, items).ConfigureAwait(false);
            Same(step, model.Decide(now, items), actual);
            return actual;
        }

        await Decide("the narrow rule's only request", (narrow, partition, 1000)).ConfigureAwait(false);
        for (var i = 0; i < 3; i++)
        {
            var refused = await Decide("a batch the narrow rule refuses (" + (i + 1) + ")", (wide, partition, 1000), (narrow, partition, 1000), (tokens, partition, 60_000)).ConfigureAwait(false);
            if (refused.Admitted || !refused.Results[0].Admitted || refused.Results[1].Admitted || !refused.Results[2].Admitted)
            {
                throw Fail("a batch whose second rule refuses answered " + Describe(refused) + "; expected admitted=False with each rule's own verdict (True, False, True)");
            }
        }

        for (var i = 0; i < 4; i++)
        {
            var alone = await Decide("the wide rule alone after the refused batches (" + (i + 1) + ")", (wide, partition, 1000)).ConfigureAwait(false);
            if (!alone.Admitted)
            {
                throw Fail("request " + (i + 1) + " of the wide rule (burst 3) was refused after batches that were refused: a refused batch charged it");
            }
        }

        var whole = await Decide("the whole token budget after the refused batches", (tokens, partition, 100_000)).ConfigureAwait(false);
        if (!whole.Admitted)
        {
            throw Fail("the whole token budget was refused after batches that were refused: a refused batch reserved tokens");
        }

        var other = PartitionKey.FromText("batch-admitted");
        await Decide("a batch every rule admits", (wide, other, 1000), (tokens, other, 70_000)).ConfigureAwait(false);
        var after = await Decide("the token rule after an admitted batch", (tokens, other, 40_000)).ConfigureAwait(false);
        if (after.Admitted)
        {
            throw Fail("an admitted batch did not charge every rule: 40 tokens were admitted after 70 of 100 were reserved");
        }
    }

    public async Task ConcurrentRequestsAsync(IRateLimitStore store, CancellationToken cancellationToken)
    {
        const long Burst = 99;
        var rule = Requests(Tier("concurrent"), DayNumerator, DayDenominator, burst: Burst);
        var partition = PartitionKey.FromText("concurrent");
        var n = options.Concurrency;
        var batches = new RateLimitBatch[n];
        for (var i = 0; i < n; i++)
        {
            batches[i] = Batch(Start, (rule, partition, 1000));
        }

        await RunConcurrentlyAsync(n, i => store.AcquireAsync(batches[i], cancellationToken).AsTask(), cancellationToken).ConfigureAwait(false);
        var seen = new bool[Burst + 1];
        var admitted = 0;
        foreach (var batch in batches)
        {
            if (!batch.Admitted)
            {
                if (batch.Results[0].RetryAfterMs <= 0)
                {
                    throw Fail("a refused request answered retry-after " + batch.Results[0].RetryAfterMs + " ms; it must be positive");
                }

                continue;
            }

            admitted++;
            var remaining = batch.Results[0].Remaining;
            if (remaining < 0 || remaining > Burst || seen[remaining])
            {
                throw Fail("two concurrent admissions answered the same remaining quota " + remaining + ": they read the same state (lost update)");
            }

            seen[remaining] = true;
        }

        if (admitted != Burst + 1)
        {
            throw Fail(n + " concurrent requests on one bucket (burst " + Burst + ") admitted " + admitted + "; one after another admit exactly " + (Burst + 1));
        }
    }

    public async Task ConcurrentReconcileAsync(IRateLimitStore store, CancellationToken cancellationToken)
    {
        var rule = Tokens(Tier("reconcile"), DayNumerator, DayDenominator, capacityTokens: 2 * options.Concurrency);
        var partition = PartitionKey.FromText("reconcile");
        var n = options.Concurrency;
        await RunConcurrentlyAsync(n, i => store.ReconcileAsync(rule, partition, 1000, Start, cancellationToken).AsTask(), cancellationToken).ConfigureAwait(false);
        var remaining = await store.ReconcileAsync(rule, partition, 0, Start, cancellationToken).ConfigureAwait(false);
        if (remaining != n)
        {
            throw Fail(n + " concurrent reconciliations of one token each left " + remaining + " of " + (2 * n) + " tokens; exactly " + n + " must be left");
        }
    }

    public async Task LockOrderAsync(IRateLimitStore store, CancellationToken cancellationToken)
    {
        const long Burst = 49;
        var tier = Tier("lockorder");
        var requests = Requests(tier, DayNumerator, DayDenominator, burst: Burst, lockOrder: 0);
        var tokens = Tokens(tier + "-tokens", DayNumerator, DayDenominator, capacityTokens: 10 * options.Concurrency, lockOrder: 1);
        var partition = PartitionKey.FromText("lockorder");
        var n = options.Concurrency;
        var batches = new RateLimitBatch[n];
        for (var i = 0; i < n; i++)
        {
            var batch = new RateLimitBatch { NowMs = Start };
            if (i % 2 == 0)
            {
                batch.Add(requests, partition, 1000);
                batch.Add(tokens, partition, 1000);
            }
            else
            {
                batch.Add(tokens, partition, 1000);
                batch.Add(requests, partition, 1000);
            }

            batches[i] = batch;
        }

        await RunConcurrentlyAsync(n, i => store.AcquireAsync(batches[i], cancellationToken).AsTask(), cancellationToken).ConfigureAwait(false);
        var admitted = 0;
        foreach (var batch in batches)
        {
            admitted += batch.Admitted ? 1 : 0;
        }

        var left = await store.ReconcileAsync(tokens, partition, 0, Start, cancellationToken).ConfigureAwait(false);
        if (admitted != Burst + 1 || left != 10 * n - admitted)
        {
            throw Fail(n + " concurrent two-rule batches (requests burst " + Burst + ") admitted " + admitted + " and left " + left + " of " + (10 * n)
                + " tokens; exactly " + (Burst + 1) + " must be admitted and charged, and no refused batch may charge a token");
        }
    }

    public async Task CancellationAsync(IRateLimitStore store, CancellationToken cancellationToken)
    {
        var tier = Tier("cancel");
        var first = Requests(tier + "-a", DayNumerator, DayDenominator, burst: 0, lockOrder: 0);
        var second = Requests(tier + "-b", DayNumerator, DayDenominator, burst: 0, lockOrder: 1);
        // Two buckets per attempt; a bounded store must have room for them all.
        var attempts = options.MaxBuckets is { } max ? Math.Clamp(max / 2 - 1, 1, 50) : 50;
        for (var i = 0; i < attempts; i++)
        {
            var partition = PartitionKey.FromText("cancel-" + i.ToString(CultureInfo.InvariantCulture));
            var batch = Batch(Start, (first, partition, 1000), (second, partition, 1000));
            using var cancel = new CancellationTokenSource();
            if (i == 0)
            {
                await cancel.CancelAsync().ConfigureAwait(false);
            }

            bool? decided;
            try
            {
                var pending = store.AcquireAsync(batch, cancel.Token);
                if (i > 0)
                {
                    await cancel.CancelAsync().ConfigureAwait(false);
                }

                await pending.AsTask().WaitAsync(options.Timeout, cancellationToken).ConfigureAwait(false);
                decided = batch.Admitted;
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                decided = null;
            }
            catch (TimeoutException)
            {
                throw Fail("a cancelled decision did not complete within " + options.Timeout);
            }

            var a = await DecideAsync(store, Start, cancellationToken, (first, partition, 1000)).ConfigureAwait(false);
            var b = await DecideAsync(store, Start, cancellationToken, (second, partition, 1000)).ConfigureAwait(false);
            if (a.Admitted != b.Admitted)
            {
                throw Fail("after a cancelled two-rule batch one rule was charged and the other not (first admits " + a.Admitted + ", second " + b.Admitted + "): a cancelled decision must take effect as a whole or not at all");
            }

            if (decided is { } admitted && admitted == a.Admitted)
            {
                throw Fail("a decision that completed with admitted=" + admitted + " left its buckets " + (a.Admitted ? "uncharged" : "charged"));
            }
        }
    }

    public async Task TableFullAsync(IRateLimitStore store, CancellationToken cancellationToken)
    {
        var max = options.MaxBuckets!.Value;
        var rule = Requests(Tier("full"), DayNumerator, DayDenominator, burst: 0);
        for (var i = 0; i < max; i++)
        {
            var filled = await DecideAsync(store, Start, cancellationToken, (rule, Partition(i), 1000)).ConfigureAwait(false);
            if (!filled.Admitted)
            {
                throw Fail("the first request of bucket " + (i + 1) + " of " + max + " was refused (table full " + filled.TableFull + ") before the store was full");
            }
        }

        for (var attempt = 0; attempt < 2; attempt++)
        {
            var refused = await DecideAsync(store, Start, cancellationToken, (rule, Partition(max), 1000)).ConfigureAwait(false);
            if (refused.Admitted || !refused.TableFull || refused.TableFullRetryAfterMs < 1)
            {
                throw Fail("a new bucket while all " + max + " are live answered admitted=" + refused.Admitted + " table-full=" + refused.TableFull
                    + " retry-after=" + refused.TableFullRetryAfterMs + " ms; expected a table-full refusal with a retry-after of at least 1 ms");
            }
        }

        for (var i = 0; i < max; i++)
        {
            var live = await DecideAsync(store, Start, cancellationToken, (rule, Partition(i), 1000)).ConfigureAwait(false);
            if (live.Admitted || live.TableFull)
            {
                throw Fail("bucket " + (i + 1) + " (live, exhausted) answered admitted=" + live.Admitted + " table-full=" + live.TableFull + " after the table was full: it was forgotten");
            }
        }
    }

    public async Task TableFullIdleAsync(IRateLimitStore store, CancellationToken cancellationToken)
    {
        // max - 1 buckets idle 1 s after their request, one live for a day: at +1 s exactly max - 1 new buckets fit.
        var max = options.MaxBuckets!.Value;
        var tier = Tier("room");
        var fast = Requests(tier + "-fast", 1000, 1000, burst: 0);
        var slow = Requests(tier + "-slow", DayNumerator, DayDenominator, burst: 0);
        await DecideAsync(store, Start, cancellationToken, (slow, Partition(0), 1000)).ConfigureAwait(false);
        for (var i = 1; i < max; i++)
        {
            var filled = await DecideAsync(store, Start, cancellationToken, (fast, Partition(i), 1000)).ConfigureAwait(false);
            if (!filled.Admitted)
            {
                throw Fail("the first request of bucket " + (i + 1) + " of " + max + " was refused before the store was full");
            }
        }

        var early = await DecideAsync(store, Start + 999, cancellationToken, (fast, Partition(max), 1000)).ConfigureAwait(false);
        if (!early.TableFull)
        {
            throw Fail("a new bucket 1 ms before any bucket was idle answered admitted=" + early.Admitted + " table-full=False: a live bucket was forgotten to make room");
        }

        var now = Start + 1000;
        for (var i = 0; i < max - 1; i++)
        {
            var fresh = await DecideAsync(store, now, cancellationToken, (fast, Partition(max + i), 1000)).ConfigureAwait(false);
            if (!fresh.Admitted)
            {
                throw Fail("new bucket " + (i + 1) + " of the " + (max - 1) + " that idle buckets make room for answered admitted=False table-full=" + fresh.TableFull);
            }
        }

        var over = await DecideAsync(store, now, cancellationToken, (fast, Partition(2 * max), 1000)).ConfigureAwait(false);
        if (!over.TableFull)
        {
            throw Fail("one new bucket more than the idle ones made room for answered admitted=" + over.Admitted + " table-full=False: a live bucket was forgotten");
        }

        var kept = await DecideAsync(store, now, cancellationToken, (slow, Partition(0), 1000)).ConfigureAwait(false);
        if (kept.Admitted || kept.TableFull)
        {
            throw Fail("the live bucket answered admitted=" + kept.Admitted + " table-full=" + kept.TableFull + " after room was made: it was forgotten");
        }
    }

    private async Task RunConcurrentlyAsync(int count, Func<int, Task> action, CancellationToken cancellationToken)
    {
        // Every task waits on one gate, so the decisions start together on the thread pool.
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var tasks = new Task[count];
        for (var i = 0; i < count; i++)
        {
            var index = i;
            tasks[i] = Task.Run(async () =>
            {
                await gate.Task.ConfigureAwait(false);
                await action(index).ConfigureAwait(false);
            }, cancellationToken);
        }

        gate.SetResult();
        try
        {
            await Task.WhenAll(tasks).WaitAsync(options.Timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            throw Fail(count + " concurrent calls did not finish within " + options.Timeout + ": a deadlock (buckets locked out of LockOrder?) or a lost wake-up");
        }
    }

    private static PartitionKey Partition(int i) => PartitionKey.FromText("p" + i.ToString(CultureInfo.InvariantCulture));

    private static string Tier(string what) => "conformance-" + what + "-" + Guid.NewGuid().ToString("n")[..12];

    private static RateLimitRule Requests(string tier, long numerator, long denominator, long burst, long delay = -1, int lockOrder = 0)
        => new(tier, null, RateLimitUnit.Requests, numerator, denominator, burst * 1000, delay < 0 ? long.MaxValue : delay * 1000, lockOrder, burst + 1, 1);

    private static RateLimitRule Tokens(string tier, long numerator, long denominator, long capacityTokens, int lockOrder = 1)
        => new(tier, null, RateLimitUnit.Tokens, numerator, denominator, capacityTokens * 1000, long.MaxValue, lockOrder, capacityTokens, 60);

    private static RateLimitBatch Batch(long now, params (RateLimitRule Rule, PartitionKey Partition, long Cost)[] items)
    {
        var batch = new RateLimitBatch { NowMs = now };
        foreach (var (rule, partition, cost) in items)
        {
            batch.Add(rule, partition, cost);
        }

        return batch;
    }

    private static async Task<RateLimitBatch> DecideAsync(IRateLimitStore store, long now, CancellationToken cancellationToken, params (RateLimitRule Rule, PartitionKey Partition, long Cost)[] items)
    {
        var batch = Batch(now, items);
        await store.AcquireAsync(batch, cancellationToken).ConfigureAwait(false);
        return batch;
    }

    /// <summary>Compares a store's batch with the model's: every field on the caller's clock, verdicts and remaining quota otherwise.</summary>
    private void Same(string step, RateLimitBatch expected, RateLimitBatch actual)
    {
        if (actual.TableFull)
        {
            throw Fail(step + ": refused as table full; LeakyBucket decides " + Describe(expected));
        }

        var same = expected.Admitted == actual.Admitted;
        for (var i = 0; i < expected.Count && same; i++)
        {
            var e = expected.Results[i];
            var a = actual.Results[i];
            same = e.Admitted == a.Admitted && e.Remaining == a.Remaining
                && (!_exact || (e.DelayMs == a.DelayMs && e.RetryAfterMs == a.RetryAfterMs && e.NextMs == a.NextMs));
        }

        if (!same)
        {
            throw Fail(step + ": the store answered " + Describe(actual) + "; LeakyBucket decides " + Describe(expected));
        }
    }

    private static string Describe(RateLimitBatch batch)
    {
        var text = "admitted=" + batch.Admitted + " [";
        for (var i = 0; i < batch.Count; i++)
        {
            text += (i == 0 ? string.Empty : "; ") + batch.Items[i].Rule.StoreKey + ": " + Describe(batch.Results[i]);
        }

        return text + "]";
    }

    private static string Describe(RateLimitItemResult result)
        => string.Create(CultureInfo.InvariantCulture, $"admitted={result.Admitted} delay={result.DelayMs} retry-after={result.RetryAfterMs} remaining={result.Remaining} next={result.NextMs}");

    private static ConformanceException Fail(string message) => new(message);

    /// <summary>The reference: every bucket's state, changed only through <see cref="LeakyBucket"/>, all-or-nothing per batch.</summary>
    private sealed class BucketModel
    {
        private readonly Dictionary<(RateLimitRule, PartitionKey), BucketState> _states = [];

        public RateLimitBatch Decide(long now, params (RateLimitRule Rule, PartitionKey Partition, long Cost)[] items)
        {
            var batch = Batch(now, items);
            var excess = new long[batch.Count];
            var admitted = true;
            for (var i = 0; i < batch.Count; i++)
            {
                var item = batch.Items[i];
                _states.TryGetValue((item.Rule, item.Partition), out var state);
                excess[i] = LeakyBucket.Evaluate(item.Rule, state, item.CostMilli, now, out batch.Results[i]);
                admitted &= batch.Results[i].Admitted;
            }

            batch.Admitted = admitted;
            if (admitted)
            {
                for (var i = 0; i < batch.Count; i++)
                {
                    var item = batch.Items[i];
                    _states.TryGetValue((item.Rule, item.Partition), out var state);
                    LeakyBucket.Commit(ref state, excess[i], now);
                    _states[(item.Rule, item.Partition)] = state;
                }
            }

            return batch;
        }

        public long Reconcile(RateLimitRule rule, PartitionKey partition, long deltaMilli, long now)
        {
            _states.TryGetValue((rule, partition), out var state);
            var remaining = LeakyBucket.Reconcile(rule, ref state, deltaMilli, now);
            _states[(rule, partition)] = state;
            return remaining;
        }
    }
}
