using AiEdge.Middleware.Caching;
using AiEdge.Middleware.Conformance;
using Microsoft.Extensions.Time.Testing;

namespace AiEdge.Middleware.Docs.Tests.Snippets;

// docs/caching.md, "Writing a cache store": the kit against a store on a clock the test controls (here the in-memory
// store, standing in for one's own).
#region prediction-cache-store-1
public sealed class MyPredictionCacheStoreConformanceTests
{
    public static TheoryData<string> Checks => new(PredictionCacheStoreConformance.Checks(Options(new())).Names());

    [Theory, MemberData(nameof(Checks))]
    public Task Store_PassesCheck(string name)
        => PredictionCacheStoreConformance.Checks(Options(new FakeTimeProvider())).Get(name).RunAsync();

    // The store's clock is a FakeTimeProvider: the time-to-live, lease and wait checks advance it instead of waiting.
    private static PredictionCacheStoreConformanceOptions Options(FakeTimeProvider time) => new()
    {
        CreateStore = () => new InMemoryPredictionCacheStore(time),
        AdvanceTime = span =>
        {
            time.Advance(span);
            return ValueTask.CompletedTask;
        },
    };
}
#endregion
