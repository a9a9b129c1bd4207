using System.Security.Cryptography;
using System.Text;
using AiEdge.Middleware.Caching;
using Microsoft.Extensions.Primitives;

namespace AiEdge.Middleware.Conformance;

/// <summary>
/// The contract checks of an <see cref="IIdempotencyStore"/>: claims, tokens, completion, release, lease and
/// retention expiry, opaque keys, byte-exact records, concurrent claims, a full bounded store, and cancellation.
/// Run each check of <see cref="Checks"/> as one test case; a store that passes them all keeps the contract stated
/// on <see cref="IIdempotencyStore"/>.
/// </summary>
/// <remarks>
/// <para>Time: the contract gives leases and retentions as durations and a store measures them on its own clock.
/// When the test controls that clock (<see cref="IdempotencyStoreConformanceOptions.AdvanceTime"/>), the expiry checks
/// advance it and take no real time; otherwise they give a short real duration and poll the store, with a deadline,
/// until it ends.</para>
/// <para>Concurrency is real: the concurrency check starts its claims on the thread pool together and lets them
/// race.</para>
/// </remarks>
public static class IdempotencyStoreConformance
{
    /// <summary>The length of the keys the checks use (except the opaque-key check, whose keys are up to 256 characters).</summary>
    public const int KeyLength = 64;

    /// <summary>The length of the fingerprints the checks give.</summary>
    public const int FingerprintLength = 32;

    /// <summary>The length of the tokens the checks give.</summary>
    public const int TokenLength = 32;

    private static readonly TimeSpan LongDuration = TimeSpan.FromMinutes(10);
    private static readonly TimeSpan ControlledDuration = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan ControlledMargin = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(20);

    /// <summary>The checks for the stores <paramref name="options"/> describes.</summary>
    /// <param name="options">How to make the store and what it can do.</param>
    /// <returns>The checks, each named by what it proves.</returns>
    public static IReadOnlyList<ConformanceCheck> Checks(IdempotencyStoreConformanceOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(options.CreateStore);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(options.ShortDuration, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Timeout, options.ShortDuration);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Concurrency, 2);

        var checks = new List<ConformanceCheck>
        {
            Check(options, "Claim: an absent key is claimed", ClaimAbsentAsync),
            Check(options, "Claim: a held key is InProgress with the claimant's fingerprint", ClaimHeldAsync),
            Check(options, "Complete: the owner's record is read back and replayed to claims", CompleteByOwnerAsync),
            Check(options, "Complete: a token that does not hold the claim changes nothing", CompleteByOtherAsync),
            Check(options, "Release: a token that does not hold the claim changes nothing", ReleaseByOtherAsync),
            Check(options, "Release: a released key can be claimed again", ReleaseThenClaimAsync),
            Check(options, "Lease: a claim ends when its lease ends", LeaseExpiresAsync),
            Check(options, "Retention: a record is forgotten when its retention ends", RetentionExpiresAsync),
            Check(options, "Keys: opaque printable ASCII up to 256 characters, compared whole", OpaqueKeysAsync),
            Check(options, "Records: read back byte for byte", RecordRoundTripAsync),
            Check(options, "Concurrency: of concurrent claims of an absent key exactly one is Claimed", ConcurrentClaimsAsync),
        };

        if (options.CreateBoundedStore is { } bounded)
        {
            checks.Add(new ConformanceCheck(
                "Bound: a full store answers Full instead of evicting a running claim",
                cancellationToken => RunAsync(bounded, options, cancellationToken, FullAsync)));
        }

        checks.Add(Check(options, "Cancellation: a cancelled call completes or throws OperationCanceledException, leaving a valid state", CancellationAsync));
        return checks;
    }

    private delegate Task CheckBody(IIdempotencyStore store, IdempotencyStoreConformanceOptions options, CancellationToken cancellationToken);

    private static ConformanceCheck Check(IdempotencyStoreConformanceOptions options, string name, CheckBody body)
        => new(name, cancellationToken => RunAsync(options.CreateStore, options, cancellationToken, body));

    private static async Task RunAsync(Func<IIdempotencyStore> factory, IdempotencyStoreConformanceOptions options, CancellationToken cancellationToken, CheckBody body)
    {
        var store = factory() ?? throw new ConformanceException("The store factory returned null.");
        try
        {
            await body(store, options, cancellationToken).ConfigureAwait(false);
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
    }

    private static async Task ClaimAbsentAsync(IIdempotencyStore store, IdempotencyStoreConformanceOptions options, CancellationToken cancellationToken)
    {
        var key = NewKey();
        var claim = await store.TryClaimAsync(key, NewFingerprint(), NewToken(), LongDuration, cancellationToken).ConfigureAwait(false);
        Expect(claim.Status == IdempotencyClaimStatus.Claimed, $"TryClaimAsync of an absent key answered {claim.Status}, not Claimed.");
        var record = await store.GetAsync(key, cancellationToken).ConfigureAwait(false);
        Expect(record is null, "GetAsync of a claimed key (not completed) answered a record, not null.");
        var absent = await store.GetAsync(NewKey(), cancellationToken).ConfigureAwait(false);
        Expect(absent is null, "GetAsync of an absent key answered a record, not null.");
    }

    private static async Task ClaimHeldAsync(IIdempotencyStore store, IdempotencyStoreConformanceOptions options, CancellationToken cancellationToken)
    {
        var key = NewKey();
        var first = NewFingerprint();
        await ClaimAsync(store, key, first, NewToken(), LongDuration, cancellationToken).ConfigureAwait(false);
        var second = await store.TryClaimAsync(key, NewFingerprint(), NewToken(), LongDuration, cancellationToken).ConfigureAwait(false);
        ExpectInProgress(second, first, "a second claim of a held key");
    }

    private static async Task CompleteByOwnerAsync(IIdempotencyStore store, IdempotencyStoreConformanceOptions options, CancellationToken cancellationToken)
    {
        var key = NewKey();
        var fingerprint = NewFingerprint();
        var token = NewToken();
        await ClaimAsync(store, key, fingerprint, token, LongDuration, cancellationToken).ConfigureAwait(false);
        var record = NewRecord(fingerprint, "completed");
        var kept = await store.CompleteAsync(key, token, record, LongDuration, cancellationToken).ConfigureAwait(false);
        Expect(kept, "CompleteAsync by the token that claimed the key answered false.");

        var read = await store.GetAsync(key, cancellationToken).ConfigureAwait(false);
        Expect(read is not null, "GetAsync after CompleteAsync answered null, not the record.");
        ExpectSameRecord(record, read!, "GetAsync after CompleteAsync");

        var claim = await store.TryClaimAsync(key, NewFingerprint(), NewToken(), LongDuration, cancellationToken).ConfigureAwait(false);
        ExpectCompleted(claim, record, "a claim of a completed key");

        var again = await store.CompleteAsync(key, token, NewRecord(fingerprint, "again"), LongDuration, cancellationToken).ConfigureAwait(false);
        Expect(!again, "A second CompleteAsync of a completed key answered true (the claim was already replaced by the record).");
        ExpectSameRecord(record, (await store.GetAsync(key, cancellationToken).ConfigureAwait(false))!, "GetAsync after a second CompleteAsync");
    }

    private static async Task CompleteByOtherAsync(IIdempotencyStore store, IdempotencyStoreConformanceOptions options, CancellationToken cancellationToken)
    {
        var key = NewKey();
        var fingerprint = NewFingerprint();
        await ClaimAsync(store, key, fingerprint, NewToken(), LongDuration, cancellationToken).ConfigureAwait(false);
        var kept = await store.CompleteAsync(key, NewToken(), NewRecord(fingerprint, "intruder"), LongDuration, cancellationToken).ConfigureAwait(false);
        Expect(!kept, "CompleteAsync by a token that does not hold the claim answered true.");
        Expect(await store.GetAsync(key, cancellationToken).ConfigureAwait(false) is null, "CompleteAsync by a token that does not hold the claim stored a record.");
        var claim = await store.TryClaimAsync(key, NewFingerprint(), NewToken(), LongDuration, cancellationToken).ConfigureAwait(false);
        ExpectInProgress(claim, fingerprint, "a claim after CompleteAsync by another token");

        var absent = NewKey();
        var keptAbsent = await store.CompleteAsync(absent, NewToken(), NewRecord(fingerprint, "absent"), LongDuration, cancellationToken).ConfigureAwait(false);
        Expect(!keptAbsent, "CompleteAsync of a key nobody claimed answered true.");
        Expect(await store.GetAsync(absent, cancellationToken).ConfigureAwait(false) is null, "CompleteAsync of a key nobody claimed stored a record.");
    }

    private static async Task ReleaseByOtherAsync(IIdempotencyStore store, IdempotencyStoreConformanceOptions options, CancellationToken cancellationToken)
    {
        var key = NewKey();
        var fingerprint = NewFingerprint();
        var token = NewToken();
        await ClaimAsync(store, key, fingerprint, token, LongDuration, cancellationToken).ConfigureAwait(false);
        await store.ReleaseAsync(key, NewToken(), cancellationToken).ConfigureAwait(false);
        var claim = await store.TryClaimAsync(key, NewFingerprint(), NewToken(), LongDuration, cancellationToken).ConfigureAwait(false);
        ExpectInProgress(claim, fingerprint, "a claim after ReleaseAsync by another token");

        // Release drops claims only: a completed record stays, whoever asks.
        var record = NewRecord(fingerprint, "kept");
        Expect(await store.CompleteAsync(key, token, record, LongDuration, cancellationToken).ConfigureAwait(false), "CompleteAsync by the owner answered false.");
        await store.ReleaseAsync(key, token, cancellationToken).ConfigureAwait(false);
        var read = await store.GetAsync(key, cancellationToken).ConfigureAwait(false);
        Expect(read is not null, "ReleaseAsync of a completed key dropped its record.");
    }

    private static async Task ReleaseThenClaimAsync(IIdempotencyStore store, IdempotencyStoreConformanceOptions options, CancellationToken cancellationToken)
    {
        var key = NewKey();
        var token = NewToken();
        await ClaimAsync(store, key, NewFingerprint(), token, LongDuration, cancellationToken).ConfigureAwait(false);
        await store.ReleaseAsync(key, token, cancellationToken).ConfigureAwait(false);
        var retry = NewToken();
        var claim = await store.TryClaimAsync(key, NewFingerprint(), retry, LongDuration, cancellationToken).ConfigureAwait(false);
        Expect(claim.Status == IdempotencyClaimStatus.Claimed, $"A claim after the owner's ReleaseAsync answered {claim.Status}, not Claimed.");
        var stale = await store.CompleteAsync(key, token, NewRecord(NewFingerprint(), "stale"), LongDuration, cancellationToken).ConfigureAwait(false);
        Expect(!stale, "CompleteAsync by a token whose claim was released answered true.");
    }

    private static async Task LeaseExpiresAsync(IIdempotencyStore store, IdempotencyStoreConformanceOptions options, CancellationToken cancellationToken)
    {
        var key = NewKey();
        var fingerprint = NewFingerprint();
        var token = NewToken();
        if (options.AdvanceTime is { } advance)
        {
            await ClaimAsync(store, key, fingerprint, token, ControlledDuration, cancellationToken).ConfigureAwait(false);
            await advance(ControlledDuration - ControlledMargin).ConfigureAwait(false);
            var before = await store.TryClaimAsync(key, NewFingerprint(), NewToken(), LongDuration, cancellationToken).ConfigureAwait(false);
            ExpectInProgress(before, fingerprint, "a claim just before the lease ends");
            await advance(ControlledMargin + ControlledMargin).ConfigureAwait(false);
            var after = await store.TryClaimAsync(key, NewFingerprint(), NewToken(), LongDuration, cancellationToken).ConfigureAwait(false);
            Expect(after.Status == IdempotencyClaimStatus.Claimed, $"A claim after the lease ended answered {after.Status}, not Claimed.");
        }
        else
        {
            var started = TimeProvider.System.GetTimestamp();
            await ClaimAsync(store, key, fingerprint, token, options.ShortDuration, cancellationToken).ConfigureAwait(false);
            var claim = await store.TryClaimAsync(key, NewFingerprint(), NewToken(), LongDuration, cancellationToken).ConfigureAwait(false);
            if (TimeProvider.System.GetElapsedTime(started) < options.ShortDuration)
            {
                ExpectInProgress(claim, fingerprint, "a claim before the lease ends");
            }

            while (claim.Status != IdempotencyClaimStatus.Claimed)
            {
                Expect(TimeProvider.System.GetElapsedTime(started) < options.Timeout, $"The key was still {claim.Status} {options.Timeout} after a claim with a lease of {options.ShortDuration}.");
                await Task.Delay(PollInterval, cancellationToken).ConfigureAwait(false);
                claim = await store.TryClaimAsync(key, NewFingerprint(), NewToken(), LongDuration, cancellationToken).ConfigureAwait(false);
            }
        }

        var late = await store.CompleteAsync(key, token, NewRecord(fingerprint, "late"), LongDuration, cancellationToken).ConfigureAwait(false);
        Expect(!late, "CompleteAsync by a token whose lease ended (and whose key was claimed again) answered true.");
    }

    private static async Task RetentionExpiresAsync(IIdempotencyStore store, IdempotencyStoreConformanceOptions options, CancellationToken cancellationToken)
    {
        var key = NewKey();
        var fingerprint = NewFingerprint();
        var token = NewToken();
        var record = NewRecord(fingerprint, "retained");
        await ClaimAsync(store, key, fingerprint, token, LongDuration, cancellationToken).ConfigureAwait(false);
        if (options.AdvanceTime is { } advance)
        {
            Expect(await store.CompleteAsync(key, token, record, ControlledDuration, cancellationToken).ConfigureAwait(false), "CompleteAsync by the owner answered false.");
            await advance(ControlledDuration - ControlledMargin).ConfigureAwait(false);
            Expect(await store.GetAsync(key, cancellationToken).ConfigureAwait(false) is not null, "GetAsync just before the retention ends answered null.");
            var before = await store.TryClaimAsync(key, NewFingerprint(), NewToken(), LongDuration, cancellationToken).ConfigureAwait(false);
            ExpectCompleted(before, record, "a claim just before the retention ends");
            await advance(ControlledMargin + ControlledMargin).ConfigureAwait(false);
            Expect(await store.GetAsync(key, cancellationToken).ConfigureAwait(false) is null, "GetAsync after the retention ended answered the record, not null.");
        }
        else
        {
            var started = TimeProvider.System.GetTimestamp();
            Expect(await store.CompleteAsync(key, token, record, options.ShortDuration, cancellationToken).ConfigureAwait(false), "CompleteAsync by the owner answered false.");
            var read = await store.GetAsync(key, cancellationToken).ConfigureAwait(false);
            if (TimeProvider.System.GetElapsedTime(started) < options.ShortDuration)
            {
                Expect(read is not null, "GetAsync before the retention ends answered null.");
            }

            while (read is not null)
            {
                Expect(TimeProvider.System.GetElapsedTime(started) < options.Timeout, $"The record was still there {options.Timeout} after it was completed with a retention of {options.ShortDuration}.");
                await Task.Delay(PollInterval, cancellationToken).ConfigureAwait(false);
                read = await store.GetAsync(key, cancellationToken).ConfigureAwait(false);
            }
        }

        var claim = await store.TryClaimAsync(key, NewFingerprint(), NewToken(), LongDuration, cancellationToken).ConfigureAwait(false);
        Expect(claim.Status == IdempotencyClaimStatus.Claimed, $"A claim after the retention ended answered {claim.Status}, not Claimed.");
    }

    private static async Task OpaqueKeysAsync(IIdempotencyStore store, IdempotencyStoreConformanceOptions options, CancellationToken cancellationToken)
    {
        // Every printable ASCII character (braces, colons, spaces, quotes, wildcards, backslashes), a random tail,
        // 256 characters in all; then keys that differ from it only at the end, in case, or by being a prefix.
        var printable = new StringBuilder(256);
        for (var c = ' '; c <= '~'; c++)
        {
            printable.Append(c);
        }

        var tail = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(128));
        var longKey = string.Concat(printable.ToString(), tail)[..256];
        string[] keys =
        [
            longKey,
            longKey[..255] + (longKey[255] == 'a' ? 'b' : 'a'),
            string.Concat(longKey.AsSpan(0, 128), longKey[128..].ToUpperInvariant()),
            longKey[..200],
            longKey[..100] + " ",
            "{" + tail[..20] + "}",
            tail[..20] + "*",
        ];
        var fingerprints = new byte[keys.Length][];
        for (var i = 0; i < keys.Length; i++)
        {
            fingerprints[i] = NewFingerprint();
            var claim = await store.TryClaimAsync(keys[i], fingerprints[i], NewToken(), LongDuration, cancellationToken).ConfigureAwait(false);
            Expect(claim.Status == IdempotencyClaimStatus.Claimed, $"A claim of key #{i} (\"{keys[i]}\"), distinct from the keys claimed before it, answered {claim.Status}, not Claimed.");
        }

        for (var i = 0; i < keys.Length; i++)
        {
            var claim = await store.TryClaimAsync(keys[i], NewFingerprint(), NewToken(), LongDuration, cancellationToken).ConfigureAwait(false);
            ExpectInProgress(claim, fingerprints[i], $"a second claim of key #{i} (\"{keys[i]}\")");
        }
    }

    private static async Task RecordRoundTripAsync(IIdempotencyStore store, IdempotencyStoreConformanceOptions options, CancellationToken cancellationToken)
    {
        var body = new byte[70_000];
        for (var i = 0; i < body.Length; i++)
        {
            body[i] = (byte)(i * 7);
        }

        var fingerprint = NewFingerprint();
        var record = IdempotencyRecord.Create(
            fingerprint,
            201,
            [
                new("Content-Type", "application/json; charset=utf-8"),
                new("Link", new StringValues(["</a>; rel=\"next\"", "</b>; rel=\"prev\""])),
                new("X-Model", "caf\u00e9-\u6a21\u578b"),
                new("X-Empty", string.Empty),
            ],
            body);
        var key = NewKey();
        var token = NewToken();
        await ClaimAsync(store, key, fingerprint, token, LongDuration, cancellationToken).ConfigureAwait(false);
        Expect(await store.CompleteAsync(key, token, record, LongDuration, cancellationToken).ConfigureAwait(false), "CompleteAsync by the owner answered false.");
        var read = await store.GetAsync(key, cancellationToken).ConfigureAwait(false);
        Expect(read is not null, "GetAsync after CompleteAsync answered null.");
        ExpectSameRecord(record, read!, "GetAsync");
        var claim = await store.TryClaimAsync(key, NewFingerprint(), NewToken(), LongDuration, cancellationToken).ConfigureAwait(false);
        ExpectCompleted(claim, record, "a claim of the completed key");
    }

    private static async Task ConcurrentClaimsAsync(IIdempotencyStore store, IdempotencyStoreConformanceOptions options, CancellationToken cancellationToken)
    {
        const int Rounds = 4;
        var count = options.Concurrency;
        for (var round = 0; round < Rounds; round++)
        {
            var key = NewKey();
            var fingerprints = new byte[count][];
            for (var i = 0; i < count; i++)
            {
                fingerprints[i] = NewFingerprint();
            }

            var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var claims = new Task<IdempotencyClaim>[count];
            for (var i = 0; i < count; i++)
            {
                var fingerprint = fingerprints[i];
                claims[i] = Task.Run(
                    async () =>
                    {
                        await start.Task.ConfigureAwait(false);
                        return await store.TryClaimAsync(key, fingerprint, NewToken(), LongDuration, cancellationToken).ConfigureAwait(false);
                    },
                    cancellationToken);
            }

            start.SetResult();
            var results = await Task.WhenAll(claims).ConfigureAwait(false);
            var winner = -1;
            for (var i = 0; i < count; i++)
            {
                if (results[i].Status == IdempotencyClaimStatus.Claimed)
                {
                    Expect(winner < 0, $"{count} concurrent claims of one absent key: claims #{winner} and #{i} both answered Claimed.");
                    winner = i;
                }
            }

            Expect(winner >= 0, $"{count} concurrent claims of one absent key: none answered Claimed.");
            for (var i = 0; i < count; i++)
            {
                if (i != winner)
                {
                    ExpectInProgress(results[i], fingerprints[winner], $"claim #{i} of {count} concurrent claims that lost to #{winner}");
                }
            }
        }
    }

    private static async Task FullAsync(IIdempotencyStore store, IdempotencyStoreConformanceOptions options, CancellationToken cancellationToken)
    {
        var running = NewKey();
        var fingerprint = NewFingerprint();
        var token = NewToken();
        await ClaimAsync(store, running, fingerprint, token, LongDuration, cancellationToken).ConfigureAwait(false);
        var other = NewKey();
        var full = await store.TryClaimAsync(other, NewFingerprint(), NewToken(), LongDuration, cancellationToken).ConfigureAwait(false);
        Expect(full.Status == IdempotencyClaimStatus.Full, $"A claim of a second key in a store with room for one running claim answered {full.Status}, not Full.");
        var held = await store.TryClaimAsync(running, NewFingerprint(), NewToken(), LongDuration, cancellationToken).ConfigureAwait(false);
        ExpectInProgress(held, fingerprint, "a claim of the running key after the store was full");
        Expect(await store.GetAsync(other, cancellationToken).ConfigureAwait(false) is null, "A key answered Full holds a record.");

        await store.ReleaseAsync(running, token, cancellationToken).ConfigureAwait(false);
        var room = await store.TryClaimAsync(other, NewFingerprint(), NewToken(), LongDuration, cancellationToken).ConfigureAwait(false);
        Expect(room.Status == IdempotencyClaimStatus.Claimed, $"A claim after the running claim was released answered {room.Status}, not Claimed.");
    }

    private static async Task CancellationAsync(IIdempotencyStore store, IdempotencyStoreConformanceOptions options, CancellationToken cancellationToken)
    {
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync().ConfigureAwait(false);
        var key = NewKey();
        var fingerprint = NewFingerprint();
        var token = NewToken();

        // Nullable, so a call that threw (null) is never read as the struct's default status (Claimed).
        var claimed = await CancelledAsync(
            async () => (IdempotencyClaim?)await store.TryClaimAsync(key, fingerprint, token, LongDuration, cancelled.Token).ConfigureAwait(false),
            "TryClaimAsync").ConfigureAwait(false);
        var claim = await store.TryClaimAsync(key, NewFingerprint(), NewToken(), LongDuration, cancellationToken).ConfigureAwait(false);
        if (claimed is { Status: IdempotencyClaimStatus.Claimed })
        {
            ExpectInProgress(claim, fingerprint, "a claim after a cancelled claim that answered Claimed");
        }
        else if (claim.Status == IdempotencyClaimStatus.InProgress)
        {
            ExpectInProgress(claim, fingerprint, "a claim after a cancelled claim that threw");
        }
        else
        {
            Expect(claim.Status == IdempotencyClaimStatus.Claimed, $"A claim after a cancelled claim answered {claim.Status}, neither Claimed nor InProgress.");
        }

        // Now a claim is held (by the cancelled call or by the one after it): cancelled calls on it, then normal ones.
        var owner = NewToken();
        var ownedKey = NewKey();
        await ClaimAsync(store, ownedKey, fingerprint, owner, LongDuration, cancellationToken).ConfigureAwait(false);
        var record = NewRecord(fingerprint, "cancelled");
        var completed = await CancelledAsync(() => store.CompleteAsync(ownedKey, owner, record, LongDuration, cancelled.Token), "CompleteAsync").ConfigureAwait(false);
        var read = await CancelledAsync(() => store.GetAsync(ownedKey, cancelled.Token), "GetAsync").ConfigureAwait(false);
        if (completed == true)
        {
            ExpectSameRecord(record, (await store.GetAsync(ownedKey, cancellationToken).ConfigureAwait(false))!, "GetAsync after a cancelled CompleteAsync that answered true");
        }

        if (read is not null)
        {
            ExpectSameRecord(record, read, "a cancelled GetAsync that answered a record");
        }

        await CancelledAsync(async () => { await store.ReleaseAsync(ownedKey, owner, cancelled.Token).ConfigureAwait(false); return true; }, "ReleaseAsync").ConfigureAwait(false);
        var after = await store.TryClaimAsync(ownedKey, NewFingerprint(), NewToken(), LongDuration, cancellationToken).ConfigureAwait(false);
        Expect(
            after.Status is IdempotencyClaimStatus.Claimed or IdempotencyClaimStatus.InProgress or IdempotencyClaimStatus.Completed,
            $"A claim after cancelled CompleteAsync and ReleaseAsync answered {after.Status}.");
    }

    // Runs a call with a cancelled token: its result, or default when it threw OperationCanceledException.
    private static async Task<T?> CancelledAsync<T>(Func<ValueTask<T>> call, string method)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return default;
        }
        catch (Exception exception)
        {
            throw new ConformanceException($"{method} with a cancelled token threw {exception.GetType().Name}, neither completing nor throwing OperationCanceledException.", exception);
        }
    }

    private static async Task ClaimAsync(IIdempotencyStore store, string key, byte[] fingerprint, string token, TimeSpan lease, CancellationToken cancellationToken)
    {
        var claim = await store.TryClaimAsync(key, fingerprint, token, lease, cancellationToken).ConfigureAwait(false);
        Expect(claim.Status == IdempotencyClaimStatus.Claimed, $"TryClaimAsync of an absent key answered {claim.Status}, not Claimed.");
    }

    private static void ExpectInProgress(IdempotencyClaim claim, byte[] fingerprint, string what)
    {
        Expect(claim.Status == IdempotencyClaimStatus.InProgress, $"For {what}, TryClaimAsync answered {claim.Status}, not InProgress.");
        Expect(claim.Fingerprint.Span.SequenceEqual(fingerprint), $"For {what}, TryClaimAsync answered InProgress with fingerprint {Hex(claim.Fingerprint)}, not the claimant's {Hex(fingerprint)}.");
        Expect(claim.Record is null, $"For {what}, TryClaimAsync answered InProgress with a record.");
    }

    private static void ExpectCompleted(IdempotencyClaim claim, IdempotencyRecord record, string what)
    {
        Expect(claim.Status == IdempotencyClaimStatus.Completed, $"For {what}, TryClaimAsync answered {claim.Status}, not Completed.");
        Expect(claim.Record is not null, $"For {what}, TryClaimAsync answered Completed without a record.");
        ExpectSameRecord(record, claim.Record!, what);
        Expect(claim.Fingerprint.Span.SequenceEqual(record.Fingerprint.Span), $"For {what}, TryClaimAsync answered Completed with fingerprint {Hex(claim.Fingerprint)}, not the record's {Hex(record.Fingerprint)}.");
    }

    private static void ExpectSameRecord(IdempotencyRecord expected, IdempotencyRecord actual, string what)
    {
        Expect(actual is not null, $"For {what}, the store answered no record.");
        Expect(actual!.Fingerprint.Span.SequenceEqual(expected.Fingerprint.Span), $"For {what}, the record's fingerprint is {Hex(actual.Fingerprint)}, not {Hex(expected.Fingerprint)}.");
        if (!ReferenceEquals(expected, actual))
        {
            var want = expected.Serialize();
            var got = actual.Serialize();
            Expect(want.AsSpan().SequenceEqual(got), $"For {what}, the record read back serializes to {got.Length} bytes that differ from the {want.Length} bytes given.");
        }
    }

    private static void Expect(bool condition, string message)
    {
        if (!condition)
        {
            throw new ConformanceException(message);
        }
    }

    private static string NewKey() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(KeyLength / 2));

    private static string NewToken() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(TokenLength / 2));

    private static byte[] NewFingerprint() => RandomNumberGenerator.GetBytes(FingerprintLength);

    private static IdempotencyRecord NewRecord(byte[] fingerprint, string body)
        => IdempotencyRecord.Create(fingerprint, 200, [new("Content-Type", "text/plain")], Encoding.UTF8.GetBytes(body));

    private static string Hex(ReadOnlyMemory<byte> bytes) => bytes.IsEmpty ? "(empty)" : Convert.ToHexStringLower(bytes.Span);
}
