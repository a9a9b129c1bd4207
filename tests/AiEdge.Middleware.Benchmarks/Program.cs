using AiEdge.Middleware.Benchmarks;
using BenchmarkDotNet.Running;

// Runs the micro benchmarks: dotnet run -c Release --project tests/AiEdge.Middleware.Benchmarks -- --filter '*'
// Bytes per request of the whole pipeline in seconds: ... -- --alloc [bare|miss|hit] (the case named also by type).
if (args.Length > 0 && args[0] == "--alloc")
{
    AllocationProbe.Run(args.Length > 1 ? args[1] : null);
    return;
}

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);

/// <summary>The benchmark host.</summary>
public partial class Program;
