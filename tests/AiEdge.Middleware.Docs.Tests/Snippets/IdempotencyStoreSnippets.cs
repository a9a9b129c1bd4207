using AiEdge.Middleware.Caching;
using AiEdge.Middleware.Conformance;
using AiEdge.Middleware.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace AiEdge.Middleware.Docs.Tests.Snippets;

/// <summary>docs/idempotency.md, "Writing an idempotency store".</summary>
public static class IdempotencyStoreSnippets
{
    public static WebApplication Build(WebApplicationBuilder builder)
    {
        #region idempotency-store-1
        builder.Services.AddSingleton<IIdempotencyStore>(static services => new DictionaryIdempotencyStore(services.GetRequiredService<TimeProvider>()));
        builder.Services.AddAiEdge(edge => edge.AddIdempotency());
        #endregion
        return builder.Build();
    }
}

#region idempotency-store-2
public sealed class DictionaryIdempotencyStoreConformanceTests
{
    public static TheoryData<string> Checks => new(IdempotencyStoreConformance.Checks(Options(new())).Names());

    [Theory, MemberData(nameof(Checks))]
    public Task Store_PassesCheck(string name)
        => IdempotencyStoreConformance.Checks(Options(new FakeTimeProvider())).Get(name).RunAsync();

    // The store's clock is a FakeTimeProvider: the lease and retention checks advance it instead of waiting.
    private static IdempotencyStoreConformanceOptions Options(FakeTimeProvider time) => new()
    {
        CreateStore = () => new DictionaryIdempotencyStore(time),
        AdvanceTime = span =>
        {
            time.Advance(span);
            return ValueTask.CompletedTask;
        },
    };
}
#endregion

/// <summary>
/// The smallest store that keeps the contract the way a shared store does: one lock makes each method atomic, and
/// records are kept as the bytes of <see cref="IdempotencyRecord.Serialize"/>.
/// </summary>
public sealed class DictionaryIdempotencyStore(TimeProvider time) : IIdempotencyStore
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    public ValueTask<IdempotencyClaim> TryClaimAsync(string key, byte[] fingerprint, string token, TimeSpan lease, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (Find_NeedsLock(key) is { } entry)
            {
                return ValueTask.FromResult(entry.Record is { } bytes && IdempotencyRecord.TryDeserialize(bytes, out var record)
                    ? IdempotencyClaim.Completed(record)
                    : IdempotencyClaim.InProgress(entry.Fingerprint));
            }

            _entries[key] = new Entry(token, fingerprint, null, time.GetUtcNow() + lease);
            return ValueTask.FromResult(IdempotencyClaim.Claimed);
        }
    }

    public ValueTask<bool> CompleteAsync(string key, string token, IdempotencyRecord record, TimeSpan retention, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (Find_NeedsLock(key) is not { Record: null } entry || entry.Token != token)
            {
                return ValueTask.FromResult(false);
            }

            _entries[key] = new Entry(null, entry.Fingerprint, record.Serialize(), time.GetUtcNow() + retention);
            return ValueTask.FromResult(true);
        }
    }

    public ValueTask ReleaseAsync(string key, string token, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (Find_NeedsLock(key) is { Record: null } entry && entry.Token == token)
            {
                _entries.Remove(key);
            }
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask<IdempotencyRecord?> GetAsync(string key, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            return ValueTask.FromResult(Find_NeedsLock(key)?.Record is { } bytes && IdempotencyRecord.TryDeserialize(bytes, out var record) ? record : null);
        }
    }

    private Entry? Find_NeedsLock(string key)
    {
        if (_entries.TryGetValue(key, out var entry) && entry.Until <= time.GetUtcNow())
        {
            _entries.Remove(key);
            return null;
        }

        return entry;
    }

    private sealed record Entry(string? Token, byte[] Fingerprint, byte[]? Record, DateTimeOffset Until);
}
