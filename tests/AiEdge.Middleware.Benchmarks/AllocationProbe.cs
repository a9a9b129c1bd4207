using System.Diagnostics.Tracing;

namespace AiEdge.Middleware.Benchmarks;

/// <summary>
/// Bytes allocated per request by the whole pipeline (<see cref="PipelineBenchmarks"/>), measured with
/// <see cref="GC.GetTotalAllocatedBytes(bool)"/> over 5,000 requests after 2,000 to warm up, in seconds instead of a
/// BenchmarkDotNet run; with a case name, also which types that case allocates, sampled from the runtime's allocation
/// ticks (one per 100 KB) over 100,000 requests. <c>dotnet run -c Release --project tests/AiEdge.Middleware.Benchmarks -- --alloc [bare|miss|hit|bare-uncached|uncached]</c>
/// </summary>
internal static class AllocationProbe
{
    private const int Warmup = 2_000;
    private const int Measured = 5_000;
    private const int Sampled = 100_000;

    public static void Run(string? sample)
    {
        var benchmarks = new PipelineBenchmarks();
        benchmarks.Setup();
        try
        {
            Measure("bare", benchmarks.Bare_UniqueBody, sample);
            Measure("miss", benchmarks.Pipeline_Miss, sample);
            Measure("hit", benchmarks.Pipeline_Hit, sample);
            Measure("bare-uncached", benchmarks.Bare_Uncached, sample);
            Measure("uncached", benchmarks.Pipeline_Uncached, sample);
        }
        finally
        {
            benchmarks.Cleanup();
        }
    }

    private static void Measure(string name, Func<Task> request, string? sample)
    {
        for (var i = 0; i < Warmup; i++)
        {
            request().GetAwaiter().GetResult();
        }

        var before = GC.GetTotalAllocatedBytes(precise: true);
        for (var i = 0; i < Measured; i++)
        {
            request().GetAwaiter().GetResult();
        }

        var perRequest = (GC.GetTotalAllocatedBytes(precise: true) - before) / (double)Measured;
        Console.WriteLine($"{name}: {perRequest:F0} bytes per request");
        if (name != sample)
        {
            return;
        }

        using var ticks = new AllocationTicks();
        for (var i = 0; i < Sampled; i++)
        {
            request().GetAwaiter().GetResult();
        }

        foreach (var (type, count) in ticks.ByType.OrderByDescending(static t => t.Value).Take(40))
        {
            Console.WriteLine($"  {count,6}  {type}");
        }
    }

    private sealed class AllocationTicks : EventListener
    {
        private const EventKeywords GcKeyword = (EventKeywords)0x1;

        public Dictionary<string, int> ByType { get; } = [];

        protected override void OnEventSourceCreated(EventSource eventSource)
        {
            if (eventSource.Name == "Microsoft-Windows-DotNETRuntime")
            {
                EnableEvents(eventSource, EventLevel.Verbose, GcKeyword);
            }
        }

        protected override void OnEventWritten(EventWrittenEventArgs eventData)
        {
            if (eventData.EventName?.StartsWith("GCAllocationTick", StringComparison.Ordinal) != true || eventData.PayloadNames is null)
            {
                return;
            }

            var type = eventData.Payload![eventData.PayloadNames.IndexOf("TypeName")] as string ?? "?";
            lock (ByType)
            {
                ByType[type] = ByType.GetValueOrDefault(type) + 1;
            }
        }
    }
}
