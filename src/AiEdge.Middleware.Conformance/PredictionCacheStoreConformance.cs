using AiEdge.Middleware.Caching;

namespace AiEdge.Middleware.Conformance;

/// <summary>
/// The contract checks of an <see cref="IPredictionCacheStore"/>: a missing key reads nothing, byte-exact entries under
/// their own key, time to live, one lock owner at a time, releases by the owner only, leases, get-or-acquire, wake-ups,
/// wait timeouts and cancellation, concurrent get-or-acquire. Run each check of <see cref="Checks"/> as one test case.
/// </summary>
/// <remarks>
/// <para>Time: when the test controls the store's clock (<see cref="PredictionCacheStoreConformanceOptions.AdvanceTime"/>),
/// the time checks advance it and take no real time; otherwise they give
/// <see cref="PredictionCacheStoreConformanceOptions.ShortDuration"/> and poll the store, for at most
/// <see cref="PredictionCacheStoreConformanceOptions.Timeout"/>, until the change happens.</para>
/// <para>Every check asks the factory for a store and uses keys of its own, so the stores may share a backing server. An
/// exception the store throws where the contract expects a result fails the check.</para>
/// </remarks>
public static class PredictionCacheStoreConformance
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(20);
    private static readonly TimeSpan Long = TimeSpan.FromHours(1);

    private static readonly (string Name, Func<Subject, CancellationToken, Task> Run)[] All =
    [
        ("Get: a missing key reads nothing", GetMissingAsync),
        ("Set then get: the bytes come back exactly, and only under their key", SetThenGetAsync),
        ("Set: an entry is gone after its time to live", TimeToLiveAsync),
        ("Lock: one owner at a time, free again after its release", ExclusivityAsync),
        ("Lock: a release by another owner does nothing", ForeignReleaseAsync),
        ("Lock: a lease not released ends", LeaseAsync),
        ("GetOrAcquire: the entry or the lock, never both", EntryOrLockAsync),
        ("SetAndRelease: a waiter the release wakes finds the entry", SetAndReleaseWakesAsync),
        ("Wait: returns by its timeout while the lock stays held", WaitTimeoutAsync),
        ("Wait: honours cancellation", WaitCancellationAsync),
        ("Concurrency: of concurrent GetOrAcquire calls on a missing key exactly one acquires", ConcurrentAcquireAsync),
    ];

    /// <summary>The checks for the stores <paramref name="options"/> describes.</summary>
    /// <param name="options">How to make the store and how time passes for it.</param>
    /// <returns>The checks, each named by what it proves.</returns>
    public static IReadOnlyList<ConformanceCheck> Checks(PredictionCacheStoreConformanceOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(options.CreateStore);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(options.ShortDuration, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Timeout, options.ShortDuration);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Concurrency, 2);

        var checks = new ConformanceCheck[All.Length];
        for (var i = 0; i < All.Length; i++)
        {
            checks[i] = Check(All[i].Name, All[i].Run, options);
        }

        return checks;
    }

    private static ConformanceCheck Check(string name, Func<Subject, CancellationToken, Task> run, PredictionCacheStoreConformanceOptions options)
        => new(name, async cancellationToken =>
        {
            var store = options.CreateStore() ?? throw new ConformanceException("The store factory returned null.");
            try
            {
                await run(new Subject(store, options), cancellationToken).ConfigureAwait(false);
            }
            catch (ConformanceException)
            {
                throw;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                throw;
            }
            catch (Exception exception)
            {
                throw new ConformanceException($"{name}: the store threw {exception.GetType().Name} for an ordinary outcome: {exception.Message}", exception);
            }
            finally
            {
                if (store is IAsyncDisposable asyncDisposable)
                {
                    await asyncDisposable.DisposeAsync().ConfigureAwait(false);
                }
                else if (store is IDisposable disposable)
                {
                    disposable.Dispose();
                }
            }
        });

    private static PredictionCacheKey NewKey() => new(System.Security.Cryptography.RandomNumberGenerator.GetBytes(PredictionCacheKey.Length));

    private static Guid NewOwner() => Guid.NewGuid();

    private static TimeSpan Ttl(Subject subject) => subject.ControlsTime ? TimeSpan.FromMinutes(1) : subject.Options.ShortDuration;

    private static TimeSpan Lease(Subject subject) => subject.ControlsTime ? TimeSpan.FromSeconds(30) : subject.Options.ShortDuration;

    private static void Expect(bool condition, string rule)
    {
        if (!condition)
        {
            throw new ConformanceException(rule);
        }
    }

    private static string Describe(byte[]? value) => value is null ? "nothing" : value.Length + " bytes [" + Convert.ToHexString(value.AsSpan(0, Math.Min(value.Length, 16))) + "]";

    /// <summary>Awaits <paramref name="task"/>, failing the check when it has not completed the options' timeout later.</summary>
    private static async Task<T> WithinBoundAsync<T>(Subject subject, Task<T> task, string rule, CancellationToken cancellationToken)
    {
        var timeout = subject.Options.Timeout;
        try
        {
            return await task.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            throw new ConformanceException($"{rule} (still pending {timeout.TotalSeconds:0.#} s later)");
        }
    }

    /// <summary>
    /// Until <paramref name="condition"/> holds: at once for a store whose time the check moved, else polled in real time
    /// up to the options' timeout.
    /// </summary>
    private static async Task EventuallyAsync(Subject subject, Func<Task<bool>> condition, string rule, CancellationToken cancellationToken)
    {
        if (subject.ControlsTime)
        {
            Expect(await condition().ConfigureAwait(false), rule);
            return;
        }

        var started = TimeProvider.System.GetTimestamp();
        while (!await condition().ConfigureAwait(false))
        {
            if (TimeProvider.System.GetElapsedTime(started) > subject.Options.Timeout)
            {
                throw new ConformanceException($"{rule} (not so {subject.Options.Timeout.TotalSeconds:0.#} s later)");
            }

            await Task.Delay(PollInterval, cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task GetMissingAsync(Subject subject, CancellationToken cancellationToken)
    {
        var found = await subject.Store.GetAsync(NewKey(), cancellationToken).ConfigureAwait(false);
        Expect(found is null, "Get of a key never set must return null, but returned " + Describe(found) + ".");
    }

    private static async Task SetThenGetAsync(Subject subject, CancellationToken cancellationToken)
    {
        var store = subject.Store;
        var (first, second, neighbour) = (NewKey(), NewKey(), NewKey());
        var one = new byte[300];
        var two = new byte[] { 0, 255, 10, 13, 0 };
        for (var i = 0; i < one.Length; i++)
        {
            one[i] = (byte)(i * 7);
        }

        await store.SetAsync(first, one, Ttl(subject), cancellationToken).ConfigureAwait(false);
        await store.SetAsync(second, two.AsMemory(1, 3), Ttl(subject), cancellationToken).ConfigureAwait(false);
        var readOne = await store.GetAsync(first, cancellationToken).ConfigureAwait(false);
        var readTwo = await store.GetAsync(second, cancellationToken).ConfigureAwait(false);
        var readNeighbour = await store.GetAsync(neighbour, cancellationToken).ConfigureAwait(false);

        Expect(readOne is not null && readOne.AsSpan().SequenceEqual(one), "Get after Set must return the bytes stored, but returned " + Describe(readOne) + ".");
        Expect(readTwo is not null && readTwo.AsSpan().SequenceEqual(two.AsSpan(1, 3)), "Get after Set of a slice must return exactly that slice, but returned " + Describe(readTwo) + ".");
        Expect(readNeighbour is null, "Get of a key never set must not return another key's bytes, but returned " + Describe(readNeighbour) + ".");
    }

    private static async Task TimeToLiveAsync(Subject subject, CancellationToken cancellationToken)
    {
        var store = subject.Store;
        var key = NewKey();
        var ttl = Ttl(subject);
        await store.SetAsync(key, new byte[] { 1, 2, 3 }, ttl, cancellationToken).ConfigureAwait(false);
        if (subject.ControlsTime)
        {
            var live = await store.GetAsync(key, cancellationToken).ConfigureAwait(false);
            Expect(live is not null, "Get within the time to live must return the entry, but returned nothing.");
        }

        await subject.AdvanceTimeAsync(ttl + TimeSpan.FromSeconds(1)).ConfigureAwait(false);
        await EventuallyAsync(
            subject,
            async () => await store.GetAsync(key, cancellationToken).ConfigureAwait(false) is null,
            "Get after the time to live must return null, but the entry was still there",
            cancellationToken).ConfigureAwait(false);
    }

    private static async Task ExclusivityAsync(Subject subject, CancellationToken cancellationToken)
    {
        var store = subject.Store;
        var key = NewKey();
        var (a, b) = (NewOwner(), NewOwner());
        Expect(await store.TryAcquireAsync(key, a, Long, cancellationToken).ConfigureAwait(false), "TryAcquire of a free lock must succeed.");
        Expect(!await store.TryAcquireAsync(key, b, Long, cancellationToken).ConfigureAwait(false), "TryAcquire of a held lock by another owner must fail.");
        await store.ReleaseAsync(key, a, cancellationToken).ConfigureAwait(false);
        Expect(await store.TryAcquireAsync(key, b, Long, cancellationToken).ConfigureAwait(false), "TryAcquire after the holder's release must succeed.");
    }

    private static async Task ForeignReleaseAsync(Subject subject, CancellationToken cancellationToken)
    {
        var store = subject.Store;
        var key = NewKey();
        var (a, b, c) = (NewOwner(), NewOwner(), NewOwner());
        Expect(await store.TryAcquireAsync(key, a, Long, cancellationToken).ConfigureAwait(false), "TryAcquire of a free lock must succeed.");
        await store.ReleaseAsync(key, b, cancellationToken).ConfigureAwait(false);
        Expect(!await store.TryAcquireAsync(key, c, Long, cancellationToken).ConfigureAwait(false), "A release by an owner that does not hold the lock must leave it held, but another owner took it.");
    }

    private static async Task LeaseAsync(Subject subject, CancellationToken cancellationToken)
    {
        var store = subject.Store;
        var key = NewKey();
        var lease = Lease(subject);
        var (crashed, next) = (NewOwner(), NewOwner());
        Expect(await store.TryAcquireAsync(key, crashed, lease, cancellationToken).ConfigureAwait(false), "TryAcquire of a free lock must succeed.");
        if (subject.ControlsTime)
        {
            Expect(!await store.TryAcquireAsync(key, next, lease, cancellationToken).ConfigureAwait(false), "TryAcquire within another owner's lease must fail.");
        }

        await subject.AdvanceTimeAsync(lease + TimeSpan.FromSeconds(1)).ConfigureAwait(false);
        await EventuallyAsync(
            subject,
            async () => await store.TryAcquireAsync(key, next, Long, cancellationToken).ConfigureAwait(false),
            "TryAcquire after a holder's lease ended must succeed, but the lock was still held",
            cancellationToken).ConfigureAwait(false);
    }

    private static async Task EntryOrLockAsync(Subject subject, CancellationToken cancellationToken)
    {
        var store = subject.Store;
        var (stored, missing) = (NewKey(), NewKey());
        var (a, b) = (NewOwner(), NewOwner());
        var value = new byte[] { 9, 8, 7 };
        await store.SetAsync(stored, value, Ttl(subject), cancellationToken).ConfigureAwait(false);

        var found = await store.GetOrAcquireAsync(stored, a, Long, cancellationToken).ConfigureAwait(false);
        Expect(found.Entry is not null && found.Entry.AsSpan().SequenceEqual(value), "GetOrAcquire of a stored key must return its entry, but returned " + Describe(found.Entry) + ".");
        Expect(!found.Acquired, "GetOrAcquire that returned an entry must not take the lock too.");
        Expect(await store.TryAcquireAsync(stored, b, Long, cancellationToken).ConfigureAwait(false), "GetOrAcquire that returned an entry must leave the lock free, but it was held.");

        var taken = await store.GetOrAcquireAsync(missing, a, Long, cancellationToken).ConfigureAwait(false);
        Expect(taken.Entry is null && taken.Acquired, "GetOrAcquire of a missing key with a free lock must take the lock and return no entry.");
        var held = await store.GetOrAcquireAsync(missing, b, Long, cancellationToken).ConfigureAwait(false);
        Expect(held.Entry is null && !held.Acquired, "GetOrAcquire of a missing key whose lock is held must return neither entry nor lock.");
    }

    private static async Task SetAndReleaseWakesAsync(Subject subject, CancellationToken cancellationToken)
    {
        var store = subject.Store;
        var key = NewKey();
        var (holder, waiter) = (NewOwner(), NewOwner());
        var value = new byte[] { 42, 0, 42 };
        var taken = await store.GetOrAcquireAsync(key, holder, Long, cancellationToken).ConfigureAwait(false);
        Expect(taken.Acquired, "GetOrAcquire of a missing key with a free lock must take the lock.");
        var other = await store.GetOrAcquireAsync(key, waiter, Long, cancellationToken).ConfigureAwait(false);
        Expect(!other.Acquired, "GetOrAcquire of a held lock by another owner must not take it.");

        var waiting = store.WaitAsync(key, Long, cancellationToken).AsTask();
        await store.SetAndReleaseAsync(key, value, Ttl(subject), holder, cancellationToken).ConfigureAwait(false);
        await WithinBoundAsync(subject, waiting, "WaitAsync must return once the holder released the lock", cancellationToken).ConfigureAwait(false);

        var found = await store.GetOrAcquireAsync(key, waiter, Long, cancellationToken).ConfigureAwait(false);
        Expect(found.Entry is not null && found.Entry.AsSpan().SequenceEqual(value), "A waiter woken by SetAndRelease must find the entry, but found " + Describe(found.Entry) + ".");
        Expect(!found.Acquired, "GetOrAcquire that returned an entry must not take the lock too.");
    }

    private static async Task WaitTimeoutAsync(Subject subject, CancellationToken cancellationToken)
    {
        var store = subject.Store;
        var key = NewKey();
        var timeout = subject.ControlsTime ? TimeSpan.FromSeconds(10) : subject.Options.ShortDuration;
        Expect(await store.TryAcquireAsync(key, NewOwner(), Long, cancellationToken).ConfigureAwait(false), "TryAcquire of a free lock must succeed.");

        var waiting = store.WaitAsync(key, timeout, cancellationToken).AsTask();
        await subject.AdvanceTimeAsync(timeout).ConfigureAwait(false);
        await WithinBoundAsync(subject, waiting, "WaitAsync must return by its timeout while the lock stays held", cancellationToken).ConfigureAwait(false);
    }

    private static async Task WaitCancellationAsync(Subject subject, CancellationToken cancellationToken)
    {
        var store = subject.Store;
        var key = NewKey();
        Expect(await store.TryAcquireAsync(key, NewOwner(), Long, cancellationToken).ConfigureAwait(false), "TryAcquire of a free lock must succeed.");

        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var waiting = store.WaitAsync(key, Long, cancel.Token).AsTask();
        await cancel.CancelAsync().ConfigureAwait(false);
        try
        {
            await waiting.WaitAsync(subject.Options.Timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return;
        }
        catch (TimeoutException)
        {
            throw new ConformanceException($"WaitAsync must end with OperationCanceledException when cancelled, but was still waiting {subject.Options.Timeout.TotalSeconds:0.#} s later.");
        }

        throw new ConformanceException("WaitAsync must end with OperationCanceledException when cancelled, but returned while the lock was held.");
    }

    private static async Task ConcurrentAcquireAsync(Subject subject, CancellationToken cancellationToken)
    {
        var store = subject.Store;
        var key = NewKey();
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var callers = new Task<PredictionCacheLookup>[subject.Options.Concurrency];
        for (var i = 0; i < callers.Length; i++)
        {
            callers[i] = Task.Run(async () =>
            {
                await start.Task.ConfigureAwait(false);
                return await store.GetOrAcquireAsync(key, NewOwner(), Long, cancellationToken).ConfigureAwait(false);
            }, cancellationToken);
        }

        start.SetResult();
        var results = await WithinBoundAsync(subject, Task.WhenAll(callers), "Concurrent GetOrAcquire calls must all return", cancellationToken).ConfigureAwait(false);
        var acquired = 0;
        foreach (var result in results)
        {
            Expect(result.Entry is null, "GetOrAcquire of a key never set must return no entry.");
            acquired += result.Acquired ? 1 : 0;
        }

        Expect(acquired == 1, $"Of {callers.Length} concurrent GetOrAcquire calls on a missing key exactly one must take the lock, but {acquired} did.");
    }

    /// <summary>The store of one check run, with the options that say how its time passes.</summary>
    private sealed class Subject(IPredictionCacheStore store, PredictionCacheStoreConformanceOptions options)
    {
        public IPredictionCacheStore Store { get; } = store;

        public PredictionCacheStoreConformanceOptions Options { get; } = options;

        public bool ControlsTime => Options.AdvanceTime is not null;

        public ValueTask AdvanceTimeAsync(TimeSpan by) => Options.AdvanceTime is { } advance ? advance(by) : ValueTask.CompletedTask;
    }
}
