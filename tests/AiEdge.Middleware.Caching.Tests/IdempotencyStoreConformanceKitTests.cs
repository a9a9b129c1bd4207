using System.Collections.Concurrent;
using AiEdge.Middleware.Conformance;
using AiEdge.Middleware.Testing;
using Microsoft.Extensions.Time.Testing;
using Xunit.Abstractions;

namespace AiEdge.Middleware.Caching.Tests;

/// <summary>
/// The kit catches what it claims to: each check fails against a store broken in the one way that check is about
/// (the same checks pass against the real in-memory store, see <see cref="InMemoryIdempotencyStoreConformanceTests"/>).
/// </summary>
public sealed class IdempotencyStoreConformanceKitTests(ITestOutputHelper output)
{
    public static TheoryData<BrokenIdempotencyStore.Fault, string> Breakages => new()
    {
        { BrokenIdempotencyStore.Fault.AbsentKeyNotClaimed, "Claim: an absent key is claimed" },
        { BrokenIdempotencyStore.Fault.InProgressWithCallersFingerprint, "Claim: a held key is InProgress with the claimant's fingerprint" },
        { BrokenIdempotencyStore.Fault.RecordNotRead, "Complete: the owner's record is read back and replayed to claims" },
        { BrokenIdempotencyStore.Fault.CompleteIgnoresToken, "Complete: a token that does not hold the claim changes nothing" },
        { BrokenIdempotencyStore.Fault.ReleaseIgnoresToken, "Release: a token that does not hold the claim changes nothing" },
        { BrokenIdempotencyStore.Fault.ReleaseDoesNothing, "Release: a released key can be claimed again" },
        { BrokenIdempotencyStore.Fault.LeaseNeverEnds, "Lease: a claim ends when its lease ends" },
        { BrokenIdempotencyStore.Fault.RetentionNeverEnds, "Retention: a record is forgotten when its retention ends" },
        { BrokenIdempotencyStore.Fault.KeysTruncated, "Keys: opaque printable ASCII up to 256 characters, compared whole" },
        { BrokenIdempotencyStore.Fault.RecordAltered, "Records: read back byte for byte" },
        { BrokenIdempotencyStore.Fault.ClaimNotAtomic, "Concurrency: of concurrent claims of an absent key exactly one is Claimed" },
        { BrokenIdempotencyStore.Fault.EvictsRunningClaim, "Bound: a full store answers Full instead of evicting a running claim" },
        { BrokenIdempotencyStore.Fault.CancellationThrowsOtherException, "Cancellation: a cancelled call completes or throws OperationCanceledException, leaving a valid state" },
    };

    [Theory]
    [MemberData(nameof(Breakages))]
    public async Task Check_AgainstStoreBrokenItsWay_FailsWithConformanceException(BrokenIdempotencyStore.Fault fault, string check)
    {
        var time = new FakeTimeProvider(TestClock.Start);
        var checks = IdempotencyConformanceKit.InMemory(time, store => new BrokenIdempotencyStore(store, fault));

        var failure = await Assert.ThrowsAsync<ConformanceException>(() => checks.Get(check).RunAsync().WaitAsync(TimeSpan.FromSeconds(30)));

        output.WriteLine(failure.Message);
        Assert.False(string.IsNullOrWhiteSpace(failure.Message));
    }

    [Fact]
    public void Checks_EachHasABreakageThatFailsIt_AndNamesAreUnique()
    {
        var names = IdempotencyConformanceKit.InMemory(new FakeTimeProvider(TestClock.Start)).Select(static check => check.Name).ToList();
        var broken = Breakages.Select(static row => (string)row[1]).ToList();

        Assert.Equal(names.Count, names.Distinct(StringComparer.Ordinal).Count());
        Assert.Equal(names.Order(StringComparer.Ordinal), broken.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Checks_WithoutBoundedStore_LeaveTheBoundCheckOut()
    {
        var checks = IdempotencyStoreConformance.Checks(new() { CreateStore = () => new InMemoryIdempotencyStore(TimeProvider.System) });

        Assert.DoesNotContain(checks, static check => check.Name.StartsWith("Bound:", StringComparison.Ordinal));
        Assert.Equal(IdempotencyConformanceKit.InMemory(new FakeTimeProvider(TestClock.Start)).Count - 1, checks.Count);
    }
}

/// <summary>A store that breaks the contract in one chosen way, around a correct one.</summary>
public sealed class BrokenIdempotencyStore : IIdempotencyStore, IDisposable
{
    private readonly IIdempotencyStore _inner;
    private readonly Fault _fault;
    private readonly ConcurrentDictionary<string, string> _owners = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<(string Key, string Token)> _claims = new();
    private readonly ConcurrentDictionary<string, byte[]> _racy = new(StringComparer.Ordinal);
    private readonly TaskCompletionSource _secondReader = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _readers;

    internal BrokenIdempotencyStore(IIdempotencyStore inner, Fault fault)
    {
        _inner = inner;
        _fault = fault;
    }

    public enum Fault
    {
        AbsentKeyNotClaimed,
        InProgressWithCallersFingerprint,
        RecordNotRead,
        CompleteIgnoresToken,
        ReleaseIgnoresToken,
        ReleaseDoesNothing,
        LeaseNeverEnds,
        RetentionNeverEnds,
        KeysTruncated,
        RecordAltered,
        ClaimNotAtomic,
        EvictsRunningClaim,
        CancellationThrowsOtherException,
    }

    public async ValueTask<IdempotencyClaim> TryClaimAsync(string key, byte[] fingerprint, string token, TimeSpan lease, CancellationToken cancellationToken)
    {
        ThrowIfCancelled(cancellationToken);
        key = Key(key);
        if (_fault == Fault.ClaimNotAtomic)
        {
            return await RacyClaimAsync(key, fingerprint);
        }

        if (_fault == Fault.LeaseNeverEnds)
        {
            lease = TimeSpan.FromDays(1);
        }

        var claim = await _inner.TryClaimAsync(key, fingerprint, token, lease, cancellationToken);
        if (claim.Status == IdempotencyClaimStatus.Full && _fault == Fault.EvictsRunningClaim && _claims.TryDequeue(out var oldest))
        {
            await _inner.ReleaseAsync(oldest.Key, oldest.Token, cancellationToken);
            claim = await _inner.TryClaimAsync(key, fingerprint, token, lease, cancellationToken);
        }

        switch (claim.Status)
        {
            case IdempotencyClaimStatus.Claimed:
                _owners[key] = token;
                _claims.Enqueue((key, token));
                return _fault == Fault.AbsentKeyNotClaimed ? IdempotencyClaim.InProgress(fingerprint) : claim;
            case IdempotencyClaimStatus.InProgress when _fault == Fault.InProgressWithCallersFingerprint:
                return IdempotencyClaim.InProgress(fingerprint);
            default:
                return claim;
        }
    }

    public ValueTask<bool> CompleteAsync(string key, string token, IdempotencyRecord record, TimeSpan retention, CancellationToken cancellationToken)
    {
        ThrowIfCancelled(cancellationToken);
        key = Key(key);
        if (_fault == Fault.CompleteIgnoresToken && _owners.TryGetValue(key, out var owner))
        {
            token = owner;
        }

        if (_fault == Fault.RetentionNeverEnds)
        {
            retention = TimeSpan.FromDays(1);
        }

        if (_fault == Fault.RecordAltered)
        {
            record = IdempotencyRecord.Create(record.Fingerprint.Span, 200, [], "altered"u8);
        }

        return _inner.CompleteAsync(key, token, record, retention, cancellationToken);
    }

    public ValueTask ReleaseAsync(string key, string token, CancellationToken cancellationToken)
    {
        ThrowIfCancelled(cancellationToken);
        key = Key(key);
        if (_fault == Fault.ReleaseDoesNothing)
        {
            return ValueTask.CompletedTask;
        }

        if (_fault == Fault.ReleaseIgnoresToken && _owners.TryGetValue(key, out var owner))
        {
            token = owner;
        }

        return _inner.ReleaseAsync(key, token, cancellationToken);
    }

    public ValueTask<IdempotencyRecord?> GetAsync(string key, CancellationToken cancellationToken)
    {
        ThrowIfCancelled(cancellationToken);
        return _fault == Fault.RecordNotRead ? ValueTask.FromResult<IdempotencyRecord?>(null) : _inner.GetAsync(Key(key), cancellationToken);
    }

    public void Dispose() => (_inner as IDisposable)?.Dispose();

    // Check, then act: the first caller to find the key absent waits until a second one has found it absent too, so
    // both take it.
    private async ValueTask<IdempotencyClaim> RacyClaimAsync(string key, byte[] fingerprint)
    {
        if (_racy.TryGetValue(key, out var holder))
        {
            return IdempotencyClaim.InProgress(holder);
        }

        if (Interlocked.Increment(ref _readers) == 2)
        {
            _secondReader.SetResult();
        }

        await _secondReader.Task;
        _racy[key] = fingerprint;
        return IdempotencyClaim.Claimed;
    }

    private string Key(string key) => _fault == Fault.KeysTruncated && key.Length > 128 ? key[..128] : key;

    private void ThrowIfCancelled(CancellationToken cancellationToken)
    {
        if (_fault == Fault.CancellationThrowsOtherException && cancellationToken.IsCancellationRequested)
        {
            throw new InvalidOperationException("The call was cancelled.");
        }
    }
}
