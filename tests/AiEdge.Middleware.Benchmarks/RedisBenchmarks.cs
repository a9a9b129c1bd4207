using System.Diagnostics;
using AiEdge.Middleware.RateLimiting;
using AiEdge.Middleware.RateLimiting.Internal;
using AiEdge.Middleware.Redis;
using AiEdge.Middleware.Redis.Internal;
using AiEdge.Middleware.Testing;
using BenchmarkDotNet.Attributes;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace AiEdge.Middleware.Benchmarks;

/// <summary>
/// Rate-limit admission with the state in Redis against the in-memory store, through a real Kestrel host on
/// loopback and a real redis-server (the Redis fixture): <see cref="Concurrency"/> concurrent requests per
/// operation, the way a loaded replica sees them (their decisions share script calls). The store-level pair
/// measures one decision alone; <see cref="StoreDecisions_RedisConcurrent"/> measures what a decision costs the
/// client when <see cref="Concurrency"/> of them are waiting at once (and so go several to a call). The leased
/// variants run the same with <c>AiEdge:Redis:RateLimitLeases</c> on (most decisions admitted from a lease). The global cleanup prints p50/p99 of single sequential requests for both, so the
/// latency Redis adds can be read off directly.
/// </summary>
[MemoryDiagnoser]
public class RedisBenchmarks
{
    private const int Concurrency = 128;
    private RedisServerFixture _redis = null!;
    private TestApp _memory = null!;
    private TestApp _shared = null!;
    private TestApp _leased = null!;
    private RedisConnection _connection = null!;
    private InMemoryRateLimitStore _memoryStore = null!;
    private RedisRateLimitStore _redisStore = null!;
    private RedisRateLimitLeaseStore _leaseStore = null!;
    private RateLimitRule _rule = null!;
    private PartitionKey _partition;
    private RateLimitBatch _batch = null!;
    private RateLimitBatch[] _batches = null!;
    private ValueTask[] _pending = null!;

    [GlobalSetup]
    public void Setup()
    {
        _redis = RedisServerFixture.StartAsync().GetAwaiter().GetResult();
        var settings = new Dictionary<string, string?>
        {
            ["AiEdge:RateLimiting:Tiers:bench:Rate"] = "1000000r/s",
            ["AiEdge:RateLimiting:Tiers:bench:Burst"] = "1000000",
        };
        _memory = StartApp(settings, redis: false);
        settings["AiEdge:Redis:Configuration"] = _redis.Configuration;
        _shared = StartApp(settings, redis: true);
        settings["AiEdge:Redis:RateLimitLeases:Enabled"] = "true";
        _leased = StartApp(settings, redis: true);

        var options = new RedisOptions { Configuration = _redis.Configuration };
        _connection = new RedisConnection(options, RedisConnectionSource.Owned(options), null, NullLogger<RedisConnection>.Instance);
        _connection.WhenConnectedAsync().WaitAsync(TimeSpan.FromSeconds(30)).GetAwaiter().GetResult();
        _memoryStore = new InMemoryRateLimitStore(Options.Create(new RateLimitingOptions()), TimeProvider.System);
        _redisStore = new RedisRateLimitStore(_connection, _memoryStore, options, null);
        _leaseStore = new RedisRateLimitLeaseStore(_redisStore, _connection, new RedisRateLimitLeaseOptions { Enabled = true }, TimeProvider.System);
        // 10^9 r/s with a burst of 10^9: never refuses, even at the rate leased decisions are made in-process.
        _rule = new RateLimitRule("bench", null, RateLimitUnit.Requests, 1_000_000_000_000, 1000, 1_000_000_000_000, long.MaxValue, 0, 1_000_000_000, 1);
        _partition = PartitionKey.FromText("bench");
        _batch = new RateLimitBatch();
        _batches = new RateLimitBatch[Concurrency];
        for (var i = 0; i < _batches.Length; i++)
        {
            _batches[i] = new RateLimitBatch();
        }

        _pending = new ValueTask[Concurrency];
    }

    private static TestApp StartApp(Dictionary<string, string?> settings, bool redis)
        => TestApp.StartKestrelAsync(
            builder => builder.Services.AddAiEdgeCore(edge =>
            {
                edge.AddRateLimiting();
                if (redis)
                {
                    edge.AddRedis();
                }
            }),
            static app =>
            {
                app.UseAiEdge();
                app.MapGet("/limited", static () => "ok").WithRateLimitTier("bench");
            },
            new Dictionary<string, string?>(settings)).GetAwaiter().GetResult();

    [Benchmark(Baseline = true, OperationsPerInvoke = Concurrency)]
    public Task InMemoryAdmission() => FireAsync(_memory);

    [Benchmark(OperationsPerInvoke = Concurrency)]
    public Task RedisAdmission() => FireAsync(_shared);

    [Benchmark(OperationsPerInvoke = Concurrency)]
    public Task RedisLeasedAdmission() => FireAsync(_leased);

    [Benchmark]
    public ValueTask StoreDecision_InMemory() => Decide(_memoryStore);

    [Benchmark]
    public ValueTask StoreDecision_Redis() => Decide(_redisStore);

    [Benchmark]
    public ValueTask StoreDecision_RedisLeased() => Decide(_leaseStore);

    [Benchmark(OperationsPerInvoke = Concurrency)]
    public Task StoreDecisions_RedisConcurrent() => DecideConcurrentlyAsync(_redisStore);

    [Benchmark(OperationsPerInvoke = Concurrency)]
    public Task StoreDecisions_RedisLeasedConcurrent() => DecideConcurrentlyAsync(_leaseStore);

    private async Task DecideConcurrentlyAsync(IRateLimitStore store)
    {
        var now = RateLimitClock.NowMs(TimeProvider.System);
        for (var i = 0; i < _pending.Length; i++)
        {
            var batch = _batches[i];
            batch.Reset();
            batch.NowMs = now;
            batch.Add(_rule, _partition, 1000);
            _pending[i] = store.AcquireAsync(batch, CancellationToken.None);
        }

        for (var i = 0; i < _pending.Length; i++)
        {
            await _pending[i];
            if (!_batches[i].Admitted)
            {
                throw new InvalidOperationException("Admission failed.");
            }
        }
    }

    private ValueTask Decide(IRateLimitStore store)
    {
        _batch.Reset();
        _batch.NowMs = RateLimitClock.NowMs(TimeProvider.System);
        _batch.Add(_rule, _partition, 1000);
        return store.AcquireAsync(_batch, CancellationToken.None);
    }

    private static async Task FireAsync(TestApp app)
    {
        var tasks = new Task<HttpResponseMessage>[Concurrency];
        for (var i = 0; i < tasks.Length; i++)
        {
            tasks[i] = app.Client.GetAsync("/limited");
        }

        foreach (var task in tasks)
        {
            using var response = await task;
            if (!response.IsSuccessStatusCode)
            {
                throw new InvalidOperationException("Admission failed: " + response.StatusCode);
            }
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        var memory = Percentiles(_memory);
        var shared = Percentiles(_shared);
        var leased = Percentiles(_leased);
        Console.WriteLine($"// Sequential request latency, in-memory: p50 {memory.P50:F3} ms, p99 {memory.P99:F3} ms");
        Console.WriteLine($"// Sequential request latency, Redis:     p50 {shared.P50:F3} ms, p99 {shared.P99:F3} ms");
        Console.WriteLine($"// Sequential request latency, Redis leases: p50 {leased.P50:F3} ms, p99 {leased.P99:F3} ms");
        Console.WriteLine($"// Redis adds: p50 {shared.P50 - memory.P50:F3} ms, p99 {shared.P99 - memory.P99:F3} ms");
        _memory.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _shared.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _leased.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _connection.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _memoryStore.Dispose();
        _redis.DisposeAsync().GetAwaiter().GetResult();
    }

    private static (double P50, double P99) Percentiles(TestApp app)
    {
        const int Count = 3000;
        var samples = new double[Count];
        for (var i = 0; i < 200; i++)
        {
            app.Client.GetAsync("/limited").GetAwaiter().GetResult().Dispose();
        }

        for (var i = 0; i < Count; i++)
        {
            var started = Stopwatch.GetTimestamp();
            app.Client.GetAsync("/limited").GetAwaiter().GetResult().Dispose();
            samples[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        }

        Array.Sort(samples);
        return (samples[Count / 2], samples[(int)(Count * 0.99)]);
    }
}
