using BenchmarkDotNet.Running;

// Runs the micro benchmarks: dotnet run -c Release --project tests/AiEdge.Middleware.Benchmarks -- --filter '*'
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);

/// <summary>The benchmark host.</summary>
public partial class Program;
