using System.Diagnostics;
using AiEdge.Middleware.Concurrency;
using AiEdge.Middleware.Conformance.Internal;

namespace AiEdge.Middleware.Conformance;

/// <summary>
/// The contract checks of an <see cref="IConcurrencyStore"/>: grants up to the limit and refusals past it, releases
/// that free exactly one slot and are idempotent, independent keys, a limit given per call, lease expiry and renewal,
/// real concurrent acquisitions (exactly the free slots are granted), and cancellation. Run each check of
/// <see cref="Checks"/> as one test case; a store that passes them all keeps the contract stated on
/// <see cref="IConcurrencyStore"/>.
/// </summary>
/// <remarks>
/// <para>Time: when the test controls the store's clock (<see cref="ConcurrencyStoreConformanceOptions.AdvanceTime"/>),
/// the lease checks advance it and take no real time; otherwise they give leases of a few
/// <see cref="ConcurrencyStoreConformanceOptions.ShortDuration"/>s and poll, with a deadline, until they end. An
/// attempt that took longer than a lease it relied on (a slow host, on the store's own clock) proves nothing either
/// way and runs again with a new key, until <see cref="ConcurrencyStoreConformanceOptions.Timeout"/>.</para>
/// <para>Concurrency is real: the concurrency check starts its acquisitions on the thread pool together.</para>
/// </remarks>
public static class ConcurrencyStoreConformance
{
    private static readonly TimeSpan LongLease = TimeSpan.FromMinutes(10);
    private static readonly TimeSpan ControlledLease = TimeSpan.FromMinutes(1);

    /// <summary>The checks for the stores <paramref name="options"/> describes.</summary>
    /// <param name="options">How to make the store and what it can do.</param>
    /// <returns>The checks, each named by what it proves.</returns>
    public static IReadOnlyList<ConformanceCheck> Checks(ConcurrencyStoreConformanceOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(options.CreateStore);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(options.ShortDuration, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Timeout, options.ShortDuration);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Concurrency, 2);

        return
        [
            Check(options, "Acquire: grants up to the limit with distinct ids, then refuses", LimitAsync),
            Check(options, "Release: frees exactly one slot; a repeated or unknown release changes nothing", ReleaseAsync),
            Check(options, "Keys: opaque and compared whole, each with its own slots", KeysAsync),
            Check(options, "Limit: given per call; over a lowered limit nothing is granted until enough are released", LoweredLimitAsync),
            Check(options, "Lease: an unrenewed lease ends and frees its slot; it cannot be renewed afterwards", LeaseExpiresAsync),
            Check(options, "Renew: a renewed lease outlives its first expiry; a released lease is not renewed", RenewAsync),
            Check(options, "Concurrency: of concurrent acquisitions exactly the free slots are granted", ConcurrentAcquireAsync),
            Check(options, "Cancellation: a cancelled call completes or throws OperationCanceledException, leaving a valid state", CancellationAsync),
        ];
    }

    private delegate Task CheckBody(IConcurrencyStore store, ConcurrencyStoreConformanceOptions options, CancellationToken cancellationToken);

    private static ConformanceCheck Check(ConcurrencyStoreConformanceOptions options, string name, CheckBody body)
        => new(name, cancellationToken => StoreCheckRun.RunAsync(options.CreateStore, name, (store, token) => body(store, options, token), cancellationToken));

    private static async Task LimitAsync(IConcurrencyStore store, ConcurrencyStoreConformanceOptions options, CancellationToken cancellationToken)
    {
        var key = NewKey();
        var ids = new HashSet<long>();
        for (var i = 1; i <= 3; i++)
        {
            var lease = await store.TryAcquireAsync(key, 3, LongLease, cancellationToken).ConfigureAwait(false);
            Expect(lease.Acquired, $"Acquisition {i} of 3 slots was refused.");
            Expect(lease.InFlight == i, $"Acquisition {i} of 3 slots answered InFlight {lease.InFlight}, not {i}.");
            Expect(ids.Add(lease.Id), $"Acquisition {i} answered the lease id {lease.Id} a live lease of the key already has.");
        }

        var refused = await store.TryAcquireAsync(key, 3, LongLease, cancellationToken).ConfigureAwait(false);
        Expect(!refused.Acquired, "A fourth acquisition of 3 slots was granted.");
        Expect(refused.InFlight == 3, $"A refusal of a full key answered InFlight {refused.InFlight}, not 3.");
        await ExpectCountAsync(store, key, 3, "after three grants", cancellationToken).ConfigureAwait(false);
    }

    private static async Task ReleaseAsync(IConcurrencyStore store, ConcurrencyStoreConformanceOptions options, CancellationToken cancellationToken)
    {
        var key = NewKey();
        var first = await AcquireAsync(store, key, 2, LongLease, cancellationToken).ConfigureAwait(false);
        var second = await AcquireAsync(store, key, 2, LongLease, cancellationToken).ConfigureAwait(false);
        await store.ReleaseAsync(key, first.Id, cancellationToken).ConfigureAwait(false);
        await ExpectCountAsync(store, key, 1, "after one of two leases was released", cancellationToken).ConfigureAwait(false);
        await store.ReleaseAsync(key, first.Id, cancellationToken).ConfigureAwait(false);
        await ExpectCountAsync(store, key, 1, "after the same lease was released twice (the second release freed another lease's slot)", cancellationToken).ConfigureAwait(false);
        var unknown = first.Id == long.MaxValue ? long.MinValue : long.MaxValue;
        if (unknown != second.Id)
        {
            await store.ReleaseAsync(key, unknown, cancellationToken).ConfigureAwait(false);
            await ExpectCountAsync(store, key, 1, "after a release of an unknown lease id", cancellationToken).ConfigureAwait(false);
        }

        var again = await store.TryAcquireAsync(key, 2, LongLease, cancellationToken).ConfigureAwait(false);
        Expect(again.Acquired, "After a release of one of two leases, an acquisition of 2 slots was refused.");
        await store.ReleaseAsync(NewKey(), second.Id, cancellationToken).ConfigureAwait(false);
        await ExpectCountAsync(store, key, 2, "after a release of its lease id under another key", cancellationToken).ConfigureAwait(false);
    }

    private static async Task KeysAsync(IConcurrencyStore store, ConcurrencyStoreConformanceOptions options, CancellationToken cancellationToken)
    {
        var key = NewKey();
        await AcquireAsync(store, key, 1, LongLease, cancellationToken).ConfigureAwait(false);
        foreach (var other in new[] { key + ":", key.ToUpperInvariant(), key[..^1], "concurrency:" + key + ":ip:203.0.113.7" })
        {
            var lease = await store.TryAcquireAsync(other, 1, LongLease, cancellationToken).ConfigureAwait(false);
            Expect(lease.Acquired, $"The key \"{other}\" was refused because \"{key}\" was full: keys must be compared whole and ordinally.");
        }
    }

    private static async Task LoweredLimitAsync(IConcurrencyStore store, ConcurrencyStoreConformanceOptions options, CancellationToken cancellationToken)
    {
        var key = NewKey();
        var leases = new List<ConcurrencyLease>();
        for (var i = 0; i < 4; i++)
        {
            leases.Add(await AcquireAsync(store, key, 4, LongLease, cancellationToken).ConfigureAwait(false));
        }

        var lowered = await store.TryAcquireAsync(key, 2, LongLease, cancellationToken).ConfigureAwait(false);
        Expect(!lowered.Acquired, "With 4 live leases, an acquisition of 2 slots was granted.");
        await store.ReleaseAsync(key, leases[0].Id, cancellationToken).ConfigureAwait(false);
        await store.ReleaseAsync(key, leases[1].Id, cancellationToken).ConfigureAwait(false);
        lowered = await store.TryAcquireAsync(key, 2, LongLease, cancellationToken).ConfigureAwait(false);
        Expect(!lowered.Acquired, "With 2 live leases, an acquisition of 2 slots was granted.");
        await store.ReleaseAsync(key, leases[2].Id, cancellationToken).ConfigureAwait(false);
        lowered = await store.TryAcquireAsync(key, 2, LongLease, cancellationToken).ConfigureAwait(false);
        Expect(lowered.Acquired, "With 1 live lease, an acquisition of 2 slots was refused.");
        var raised = await store.TryAcquireAsync(key, 5, LongLease, cancellationToken).ConfigureAwait(false);
        Expect(raised.Acquired, "With 2 live leases, an acquisition of 5 slots was refused.");
    }

    private static Task LeaseExpiresAsync(IConcurrencyStore store, ConcurrencyStoreConformanceOptions options, CancellationToken cancellationToken)
        => RunUntilConclusiveAsync(options, async () =>
        {
            var key = NewKey();
            var duration = options.AdvanceTime is null ? options.ShortDuration : ControlledLease;
            var started = Stopwatch.GetTimestamp();
            var lease = await AcquireAsync(store, key, 1, duration, cancellationToken).ConfigureAwait(false);
            var refused = await store.TryAcquireAsync(key, 1, LongLease, cancellationToken).ConfigureAwait(false);
            if (refused.Acquired && RanOut(options, started, duration))
            {
                return false;
            }

            Expect(!refused.Acquired, "A second acquisition of 1 slot was granted while the first lease lived.");
            if (options.AdvanceTime is { } advance)
            {
                await advance(ControlledLease + TimeSpan.FromSeconds(1)).ConfigureAwait(false);
                await ExpectCountAsync(store, key, 0, "after its only lease expired", cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await PollAsync(options, async () => await store.CountAsync(key, cancellationToken).ConfigureAwait(false) == 0, "the lease of ShortDuration to end", cancellationToken).ConfigureAwait(false);
            }

            var renewed = await store.RenewAsync(key, lease.Id, LongLease, cancellationToken).ConfigureAwait(false);
            Expect(!renewed, "RenewAsync of an expired lease answered true.");
            var next = await store.TryAcquireAsync(key, 1, LongLease, cancellationToken).ConfigureAwait(false);
            Expect(next.Acquired, "After the only lease expired, an acquisition of 1 slot was refused.");
            return true;
        });

    private static Task RenewAsync(IConcurrencyStore store, ConcurrencyStoreConformanceOptions options, CancellationToken cancellationToken)
        => RunUntilConclusiveAsync(options, async () =>
        {
            var key = NewKey();
            var unit = options.AdvanceTime is null ? options.ShortDuration : ControlledLease / 4;
            var first = unit * 4;
            var renewedFor = unit * 40;
            var started = Stopwatch.GetTimestamp();
            var lease = await AcquireAsync(store, key, 1, first, cancellationToken).ConfigureAwait(false);
            await PassAsync(options, unit, cancellationToken).ConfigureAwait(false);
            var renewed = await store.RenewAsync(key, lease.Id, renewedFor, cancellationToken).ConfigureAwait(false);
            if (!renewed && RanOut(options, started, first))
            {
                return false;
            }

            Expect(renewed, "RenewAsync of a live lease answered false.");
            await PassAsync(options, first, cancellationToken).ConfigureAwait(false);
            var count = await store.CountAsync(key, cancellationToken).ConfigureAwait(false);
            if (count != 1 && RanOut(options, started, renewedFor))
            {
                return false;
            }

            Expect(count == 1, $"CountAsync after its lease was renewed and its first expiry passed answered {count}, not 1.");
            await store.ReleaseAsync(key, lease.Id, cancellationToken).ConfigureAwait(false);
            Expect(!await store.RenewAsync(key, lease.Id, LongLease, cancellationToken).ConfigureAwait(false), "RenewAsync of a released lease answered true.");
            await ExpectCountAsync(store, key, 0, "after a released lease was renewed", cancellationToken).ConfigureAwait(false);
            return true;
        });

    /// <summary>
    /// Runs a check whose answers rely on a lease still living when the store is asked. On the store's own clock a slow
    /// host can let the lease's time run out before the question arrives, and that answer proves nothing about the
    /// store: such an attempt returns <see langword="false"/> and the check runs again with a new key, until the
    /// options' timeout. On a controlled clock the first attempt is always conclusive.
    /// </summary>
    private static async Task RunUntilConclusiveAsync(ConcurrencyStoreConformanceOptions options, Func<Task<bool>> attempt)
    {
        var deadline = DateTime.UtcNow + options.Timeout;
        while (!await attempt().ConfigureAwait(false))
        {
            Expect(DateTime.UtcNow < deadline, $"Every attempt took longer than the lease it relied on, for {options.Timeout}: the host is too slow for a ShortDuration of {options.ShortDuration}.");
        }
    }

    /// <summary>
    /// Whether the store's clock may have passed <paramref name="lease"/> since <paramref name="started"/>: the lease
    /// began no earlier than that, so an answer given before it elapsed on the test's clock came while it lived.
    /// </summary>
    private static bool RanOut(ConcurrencyStoreConformanceOptions options, long started, TimeSpan lease)
        => options.AdvanceTime is null && Stopwatch.GetElapsedTime(started) >= lease;

    private static async Task ConcurrentAcquireAsync(IConcurrencyStore store, ConcurrencyStoreConformanceOptions options, CancellationToken cancellationToken)
    {
        var key = NewKey();
        const int Limit = 5;
        using var start = new ManualResetEventSlim();
        var calls = new Task<ConcurrencyLease>[options.Concurrency];
        for (var i = 0; i < calls.Length; i++)
        {
            calls[i] = Task.Run(
                async () =>
                {
                    start.Wait(cancellationToken);
                    return await store.TryAcquireAsync(key, Limit, LongLease, cancellationToken).ConfigureAwait(false);
                },
                cancellationToken);
        }

        start.Set();
        var results = await Task.WhenAll(calls).WaitAsync(options.Timeout, cancellationToken).ConfigureAwait(false);
        var granted = 0;
        var ids = new HashSet<long>();
        foreach (var result in results)
        {
            if (result.Acquired)
            {
                granted++;
                Expect(ids.Add(result.Id), $"Two concurrent acquisitions were granted the same lease id {result.Id}.");
            }
        }

        Expect(granted == Limit, $"Of {calls.Length} concurrent acquisitions of {Limit} free slots, {granted} were granted.");
        await ExpectCountAsync(store, key, Limit, "after the concurrent acquisitions", cancellationToken).ConfigureAwait(false);
    }

    private static async Task CancellationAsync(IConcurrencyStore store, ConcurrencyStoreConformanceOptions options, CancellationToken cancellationToken)
    {
        var key = NewKey();
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync().ConfigureAwait(false);
        try
        {
            var lease = await store.TryAcquireAsync(key, 1, LongLease, cancelled.Token).ConfigureAwait(false);
            if (lease.Acquired)
            {
                await store.ReleaseAsync(key, lease.Id, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
        }

        var count = await store.CountAsync(key, cancellationToken).ConfigureAwait(false);
        Expect(count == 0, $"After a cancelled acquisition (released if it completed), the key holds {count} leases.");
        var next = await store.TryAcquireAsync(key, 1, LongLease, cancellationToken).ConfigureAwait(false);
        Expect(next.Acquired, "After a cancelled acquisition, an acquisition of 1 slot was refused.");
    }

    private static async Task<ConcurrencyLease> AcquireAsync(IConcurrencyStore store, string key, int limit, TimeSpan lease, CancellationToken cancellationToken)
    {
        var result = await store.TryAcquireAsync(key, limit, lease, cancellationToken).ConfigureAwait(false);
        Expect(result.Acquired, $"An acquisition of a key with a free slot (limit {limit}) was refused (InFlight {result.InFlight}).");
        return result;
    }

    private static async Task ExpectCountAsync(IConcurrencyStore store, string key, int expected, string when, CancellationToken cancellationToken)
    {
        var count = await store.CountAsync(key, cancellationToken).ConfigureAwait(false);
        Expect(count == expected, $"CountAsync {when} answered {count}, not {expected}.");
    }

    private static async Task PassAsync(ConcurrencyStoreConformanceOptions options, TimeSpan duration, CancellationToken cancellationToken)
    {
        if (options.AdvanceTime is { } advance)
        {
            await advance(duration).ConfigureAwait(false);
        }
        else
        {
            await Task.Delay(duration, cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task PollAsync(ConcurrencyStoreConformanceOptions options, Func<Task<bool>> condition, string what, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + options.Timeout;
        while (!await condition().ConfigureAwait(false))
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new ConformanceException($"Waited {options.Timeout.TotalSeconds} s for {what}.");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(20), cancellationToken).ConfigureAwait(false);
        }
    }

    private static string NewKey() => "conformance:" + Guid.NewGuid().ToString("N");

    private static void Expect(bool condition, string message)
    {
        if (!condition)
        {
            throw new ConformanceException(message);
        }
    }
}
