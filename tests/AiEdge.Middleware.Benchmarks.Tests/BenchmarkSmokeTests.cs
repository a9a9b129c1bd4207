using System.Reflection;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Loggers;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace AiEdge.Middleware.Benchmarks.Tests;

public sealed class BenchmarkSmokeTests
{
    public static TheoryData<string> BenchmarkClasses()
    {
        var data = new TheoryData<string>();
        foreach (var type in typeof(Program).Assembly.GetTypes())
        {
            if (!type.IsAbstract && type.GetMethods().Any(static m => m.GetCustomAttribute<BenchmarkAttribute>() is not null))
            {
                data.Add(type.FullName!);
            }
        }

        return data;
    }

    [Fact]
    public void TheBenchmarkAssembly_HasBenchmarks()
        => Assert.NotEmpty(BenchmarkClasses());

    [Theory]
    [MemberData(nameof(BenchmarkClasses))]
    public void Benchmark_RunsOnceWithoutError(string typeName)
    {
        var type = typeof(Program).Assembly.GetType(typeName, throwOnError: true)!;
        var logger = new AccumulationLogger();
        var config = ManualConfig.CreateEmpty()
            .AddJob(Job.Dry.WithToolchain(InProcessEmitToolchain.Instance))
            .AddLogger(logger)
            .AddColumnProvider(DefaultColumnProviders.Instance)
            .WithArtifactsPath(Path.Combine(Path.GetTempPath(), "aiedge-benchmark-smoke", type.Name))
            .WithOptions(ConfigOptions.DisableOptimizationsValidator | ConfigOptions.DisableLogFile);

        var summary = BenchmarkRunner.Run(type, config);

        Assert.False(summary.HasCriticalValidationErrors, string.Join(Environment.NewLine, summary.ValidationErrors.Select(static e => e.Message)));
        Assert.NotEmpty(summary.Reports);
        Assert.All(summary.Reports, report => Assert.True(report.Success, $"{report.BenchmarkCase.DisplayInfo} failed:{Environment.NewLine}{logger.GetLog()}"));
    }

    [Fact]
    public void Spin_RunsTheNamedBenchmarkAndReportsItsMeanPerCall()
    {
        var output = new StringWriter();

        var means = Spin.Run("PipelineBenchmarks.Pipeline_Uncached", 0, output);

        var mean = Assert.Single(means);
        Assert.True(mean > 0, $"mean {mean} ns");
        Assert.StartsWith("PipelineBenchmarks.Pipeline_Uncached: ", output.ToString(), StringComparison.Ordinal);
        Assert.Contains(" ns per call", output.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Pipeline_Uncached")]
    [InlineData("NoSuchBenchmarks.Run")]
    [InlineData("PipelineBenchmarks.Setup")]
    public void Spin_RefusesANameThatIsNoBenchmark(string name)
        => Assert.Throws<ArgumentException>(() => Spin.Run(name, 0, TextWriter.Null));
}
