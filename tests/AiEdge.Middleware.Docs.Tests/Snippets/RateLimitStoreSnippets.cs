using AiEdge.Middleware.Conformance;
using AiEdge.Middleware.RateLimiting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace AiEdge.Middleware.Docs.Tests.Snippets;

/// <summary>docs/rate-limiting.md, "Writing a store".</summary>
public static class RateLimitStoreSnippets
{
    public static WebApplication Build(WebApplicationBuilder builder)
    {
        #region rate-limit-store-1
        builder.Services.AddAiEdge(edge => edge
            .AddRateLimiting()
            .AddRateLimitStore<CountingRateLimitStore>());   // or services.AddSingleton<IRateLimitStore, CountingRateLimitStore>()
        #endregion
        return builder.Build();
    }
}

/// <summary>A store of one's own: the in-memory store's decisions, counted.</summary>
public sealed class CountingRateLimitStore(IOptions<RateLimitingOptions> options, TimeProvider time) : IRateLimitStore, IDisposable
{
    private readonly InMemoryRateLimitStore _inner = new(options, time);
    private long _decisions;

    public long Decisions => Interlocked.Read(ref _decisions);

    public ValueTask AcquireAsync(RateLimitBatch batch, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _decisions);
        return _inner.AcquireAsync(batch, cancellationToken);
    }

    public ValueTask<long> ReconcileAsync(RateLimitRule rule, PartitionKey partition, long deltaMilli, long nowMs, CancellationToken cancellationToken)
        => _inner.ReconcileAsync(rule, partition, deltaMilli, nowMs, cancellationToken);

    public void Dispose() => _inner.Dispose();
}

#region rate-limit-store-2
public sealed class CountingRateLimitStoreConformanceTests
{
    private static IReadOnlyList<ConformanceCheck> Checks() => RateLimitStoreConformance.Checks(new()
    {
        CreateStore = static () => new CountingRateLimitStore(Options.Create(new RateLimitingOptions()), TimeProvider.System),
        UsesOwnClock = false,   // decides on the batch's NowMs, so the checks control its time
        MaxBuckets = null,      // unbounded: no table-full checks
    });

    public static TheoryData<string> Names() => new(Checks().Names());

    [Theory, MemberData(nameof(Names))]
    public Task Store_PassesCheck(string name) => Checks().Get(name).RunAsync();
}
#endregion
