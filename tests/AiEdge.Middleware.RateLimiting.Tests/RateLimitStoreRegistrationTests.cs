using System.Net;
using AiEdge.Middleware.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace AiEdge.Middleware.RateLimiting.Tests;

/// <summary>A store of one's own replaces the in-memory one through DI, and the middleware decides only through it.</summary>
public sealed class RateLimitStoreRegistrationTests
{
    [Fact]
    public void AddRateLimiting_Default_IsTheInMemoryStoreRegisteredAsItself()
    {
        using var services = Provider(static edge => edge.AddRateLimiting());

        var store = services.GetRequiredService<IRateLimitStore>();

        Assert.IsType<InMemoryRateLimitStore>(store);
        Assert.Same(store, services.GetRequiredService<InMemoryRateLimitStore>());
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void AddRateLimitStore_BeforeOrAfterAddRateLimiting_ReplacesTheStore(bool before)
    {
        using var services = Provider(edge => (before ? edge.AddRateLimitStore<RecordingStore>().AddRateLimiting() : edge.AddRateLimiting().AddRateLimitStore<RecordingStore>()));

        Assert.IsType<RecordingStore>(services.GetRequiredService<IRateLimitStore>());
    }

    [Fact]
    public async Task Middleware_WithAStoreOfOnesOwn_DecidesThroughItAndAnswersItsRefusal()
    {
        var time = new FakeTimeProvider(TestClock.Start);
        var store = new RecordingStore(Options.Create(new RateLimitingOptions()), time);
        await using var app = await RateLimitHost.StartAsync(
            time,
            static o => o.AddTier("own", static t => t.Rate = "1r/m"),
            static app => app.MapGet("/limited", static () => "ok").WithRateLimitTier("own"),
            services: s => s.AddSingleton<IRateLimitStore>(store));

        using var first = await app.SendAsync("/limited");
        using var second = await app.SendAsync("/limited");

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, second.StatusCode);
        Assert.Equal(2, store.Decisions);
    }

    private static ServiceProvider Provider(Func<IAiEdgeBuilder, IAiEdgeBuilder> configure)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().Build());
        services.AddAiEdgeCore(edge => configure(edge));
        return services.BuildServiceProvider();
    }

    /// <summary>The in-memory store's decisions, counted.</summary>
    public sealed class RecordingStore(IOptions<RateLimitingOptions> options, TimeProvider time) : IRateLimitStore, IDisposable
    {
        private readonly InMemoryRateLimitStore _inner = new(options, time);
        private int _decisions;

        public int Decisions => Volatile.Read(ref _decisions);

        public ValueTask AcquireAsync(RateLimitBatch batch, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _decisions);
            return _inner.AcquireAsync(batch, cancellationToken);
        }

        public ValueTask<long> ReconcileAsync(RateLimitRule rule, PartitionKey partition, long deltaMilli, long nowMs, CancellationToken cancellationToken)
            => _inner.ReconcileAsync(rule, partition, deltaMilli, nowMs, cancellationToken);

        public void Dispose() => _inner.Dispose();
    }
}
