using AiEdge.Middleware.Concurrency.Internal;
using Xunit.Abstractions;

namespace AiEdge.Middleware.Concurrency.Tests;

/// <summary>
/// The adaptive limit on a simulated GPU backend, on a virtual clock: deterministic, no real time. The backend batches
/// up to <see cref="Batch"/> requests at almost no extra latency; past that, every request in flight slows down in
/// proportion (latency grows with concurrency, throughput does not). Load arrives open-loop at 1.5 times what the
/// backend can serve; requests over the limit wait in a bounded queue or are refused.
/// </summary>
public sealed class AdaptiveLimitSimulationTests(ITestOutputHelper output)
{
    internal const int Batch = 8;
    internal const double BaseMs = 100;
    private const double WarmUpSeconds = 60;
    private const double RunSeconds = 660;

    [Fact]
    public void AdaptiveLimit_KeepsP99NearUncongestedLatency_AndThroughputWithin10PercentOfTheBestFixedLimit()
    {
        SimulationResult best = default;
        for (var limit = 1; limit <= 32; limit++)
        {
            var fixedResult = Simulate(limit, null);
            output.WriteLine($"fixed limit {limit,2}: {fixedResult.Throughput,6:0.0} req/s, p99 {fixedResult.P99Ms,6:0.0} ms");
            if (fixedResult.Throughput > best.Throughput + 0.05)
            {
                best = fixedResult with { Limit = limit };
            }
        }

        var adaptive = new AdaptiveLimit(initial: 4, min: 1, max: 64, ConcurrencyDefaults.Tolerance, ConcurrencyDefaults.BackoffRatio);
        var result = Simulate(4, adaptive);
        var uncongested = Latency(1);
        output.WriteLine($"best fixed limit {best.Limit}: {best.Throughput:0.0} req/s, p99 {best.P99Ms:0.0} ms");
        output.WriteLine($"adaptive (ended at {adaptive.Current}): {result.Throughput:0.0} req/s, p99 {result.P99Ms:0.0} ms; uncongested latency {uncongested:0.0} ms");

        Assert.True(result.Throughput >= 0.9 * best.Throughput, $"adaptive throughput {result.Throughput:0.0} < 90 % of the best fixed {best.Throughput:0.0}");
        Assert.True(result.P99Ms <= 1.35 * uncongested, $"adaptive p99 {result.P99Ms:0.0} ms is not near the uncongested {uncongested:0.0} ms");
        Assert.InRange(adaptive.Current, Batch - 2, Batch + 3);
    }

    [Fact]
    public void AdaptiveLimit_StaysWithinFloorAndCeiling_AndDoesNotGrowWhenIdle()
    {
        var limit = new AdaptiveLimit(initial: 5, min: 3, max: 6, tolerance: 1.5, backoff: 0.5);
        for (var i = 0; i < 1000; i++)
        {
            limit.OnSample(100, inFlight: 1);
        }

        Assert.Equal(5, limit.Current);
        for (var i = 0; i < 1000; i++)
        {
            limit.OnSample(100, inFlight: limit.Current);
        }

        Assert.Equal(6, limit.Current);
        for (var i = 0; i < 1000; i++)
        {
            limit.OnSample(10_000, inFlight: limit.Current);
        }

        Assert.Equal(3, limit.Current);
    }

    /// <summary>The backend's latency, in ms, for a request started with <paramref name="inFlight"/> in flight (itself included).</summary>
    internal static double Latency(int inFlight)
    {
        var batched = BaseMs * (1 + (0.02 * (Math.Min(inFlight, Batch) - 1)));
        return inFlight <= Batch ? batched : batched * inFlight / Batch;
    }

    internal static SimulationResult Simulate(int fixedLimit, AdaptiveLimit? adaptive)
    {
        var random = new Random(20261205);
        var capacity = Batch / (Latency(Batch) / 1000);
        var arrivalRate = 1.5 * capacity;
        var completions = new PriorityQueue<(double End, double Latency), double>();
        var queue = new Queue<double>();
        var latencies = new List<double>();
        var now = 0.0;
        var nextArrival = 0.0;
        var inFlight = 0;
        var served = 0;
        var queueLimit = 4 * Batch;

        void Start()
        {
            inFlight++;
            var latency = Latency(inFlight);
            completions.Enqueue((now + (latency / 1000), latency), now + (latency / 1000));
        }

        int Limit() => adaptive?.Current ?? fixedLimit;

        while (now < RunSeconds)
        {
            if (completions.Count > 0 && completions.Peek().End <= nextArrival)
            {
                var (end, latency) = completions.Dequeue();
                now = end;
                adaptive?.OnSample((long)(latency * 1000), inFlight);
                inFlight--;
                if (now >= WarmUpSeconds)
                {
                    served++;
                    latencies.Add(latency);
                }

                while (queue.Count > 0 && inFlight < Limit())
                {
                    queue.Dequeue();
                    Start();
                }
            }
            else
            {
                now = nextArrival;
                nextArrival = now + (-Math.Log(1 - random.NextDouble()) / arrivalRate);
                if (inFlight < Limit())
                {
                    Start();
                }
                else if (queue.Count < queueLimit)
                {
                    queue.Enqueue(now);
                }
            }
        }

        latencies.Sort();
        return new SimulationResult(fixedLimit, served / (RunSeconds - WarmUpSeconds), latencies[(int)(latencies.Count * 0.99)]);
    }

    internal readonly record struct SimulationResult(int Limit, double Throughput, double P99Ms);
}
