using AiEdge.Middleware.Redis.Internal;
using AiEdge.Middleware.Testing;
using BenchmarkDotNet.Attributes;
using StackExchange.Redis;

namespace AiEdge.Middleware.Benchmarks;

/// <summary>
/// How AiEdge runs its scripts: by their text (StackExchange.Redis remembers per server which it loaded and sends
/// <c>EVALSHA</c>, today's way) against by the SHA1 of a script loaded once per server (what <c>LoadedLuaScript</c>
/// does, for scripts written with <c>KEYS</c>/<c>ARGV</c>), on a real redis-server, <see cref="Concurrency"/> calls
/// in flight per operation as a loaded replica has them. The script is the rate-limit reconciliation.
/// </summary>
[MemoryDiagnoser]
public class RedisScriptEvaluationBenchmarks
{
    private const int Concurrency = 128;
    private RedisServerFixture _redis = null!;
    private ConnectionMultiplexer _multiplexer = null!;
    private IDatabase _database = null!;
    private byte[] _loaded = null!;
    private readonly RedisKey[] _keys = ["aiedge:{rl}:bench:id:script"];
    private readonly RedisValue[] _arguments = [RedisValue.EmptyString, 1_000_000_000, 1000, 1_000_000_000, 0];
    private readonly Task<RedisResult>[] _pending = new Task<RedisResult>[Concurrency];

    [GlobalSetup]
    public void Setup()
    {
        _redis = RedisServerFixture.StartAsync().GetAwaiter().GetResult();
        _multiplexer = ConnectionMultiplexer.Connect(_redis.Configuration);
        _database = _multiplexer.GetDatabase();
        _loaded = _multiplexer.GetServer(_multiplexer.GetEndPoints()[0]).ScriptLoad(RedisRateLimitStore.ReconcileScript.Text);
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Concurrency)]
    public Task ByText()
    {
        for (var i = 0; i < _pending.Length; i++)
        {
            _pending[i] = _database.ScriptEvaluateAsync(RedisRateLimitStore.ReconcileScript.Text, _keys, _arguments);
        }

        return Task.WhenAll(_pending);
    }

    [Benchmark(OperationsPerInvoke = Concurrency)]
    public Task ByLoadedSha()
    {
        for (var i = 0; i < _pending.Length; i++)
        {
            _pending[i] = _database.ScriptEvaluateAsync(_loaded, _keys, _arguments);
        }

        return Task.WhenAll(_pending);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _multiplexer.Dispose();
        _redis.DisposeAsync().GetAwaiter().GetResult();
    }
}
