using AiEdge.Middleware.Benchmarks;
using BenchmarkDotNet.Running;

// Runs the micro benchmarks: dotnet run -c Release --project tests/AiEdge.Middleware.Benchmarks -- --filter '*'
// One method in a loop for a profiler: ... -- --spin HitPathBenchmarks.Hit_SamplePipeline [seconds].
// Bytes per request of the whole pipeline in seconds: ... -- --alloc [bare|miss|hit|bare-uncached|uncached] (the case named also by type).
if (args.Length > 0 && args[0] == "--alloc")
{
    AllocationProbe.Run(args.Length > 1 ? args[1] : null);
    return;
}

if (args.Length > 1 && args[0] == "--spin")
{
    Spin.Run(args[1], args.Length > 2 ? double.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 20);
    return;
}

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);

/// <summary>The benchmark host.</summary>
public partial class Program;
