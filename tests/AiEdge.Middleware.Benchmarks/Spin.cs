using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using BenchmarkDotNet.Attributes;

namespace AiEdge.Middleware.Benchmarks;

/// <summary>
/// Runs one benchmark method in a loop for a number of seconds, for a profiler to attach to (<c>perf record -p</c>):
/// <c>dotnet run -c Release --project tests/AiEdge.Middleware.Benchmarks -- --spin PipelineBenchmarks.Pipeline_Uncached 20</c>.
/// Prints the mean time per call of each second: a rough figure beside BenchmarkDotNet's, and a quick A/B of two
/// builds when run alternately.
/// </summary>
public static class Spin
{
    /// <summary>Runs <paramref name="name"/> (<c>Class.Method</c>) for about <paramref name="seconds"/> seconds.</summary>
    /// <param name="name">The benchmark class (in this assembly) and method, <c>Class.Method</c>.</param>
    /// <param name="seconds">How long to run; at least one one-second chunk is run.</param>
    /// <param name="output">Where each second's mean goes; the console when <see langword="null"/>.</param>
    /// <returns>The mean nanoseconds per call of each second.</returns>
    public static IReadOnlyList<double> Run(string name, double seconds, TextWriter? output = null)
    {
        ArgumentNullException.ThrowIfNull(name);
        output ??= Console.Out;
        var dot = name.IndexOf('.', StringComparison.Ordinal);
        var type = (dot > 0 ? typeof(Spin).Assembly.GetType(typeof(Spin).Namespace + "." + name[..dot]) : null)
            ?? throw new ArgumentException($"No benchmark class in '{name}' (expected Class.Method, e.g. PipelineBenchmarks.Pipeline_Hit).", nameof(name));
        var method = type.GetMethod(name[(dot + 1)..], Type.EmptyTypes);
        if (method is null || !method.IsDefined(typeof(BenchmarkAttribute)))
        {
            throw new ArgumentException($"'{name}' is not a benchmark method.", nameof(name));
        }

        var instance = Activator.CreateInstance(type)!;
        InvokeMarked(type, typeof(GlobalSetupAttribute), instance);
        try
        {
            var call = typeof(Task).IsAssignableFrom(method.ReturnType)
                ? () => ((Task)method.Invoke(instance, null)!).GetAwaiter().GetResult()
                : (Action)(() => method.Invoke(instance, null));
            var means = new List<double>();
            var end = Stopwatch.GetTimestamp() + (long)(seconds * Stopwatch.Frequency);
            do
            {
                var start = Stopwatch.GetTimestamp();
                var count = 0;
                while (Stopwatch.GetElapsedTime(start).TotalSeconds < 1)
                {
                    for (var i = 0; i < 1_000; i++)
                    {
                        call();
                    }

                    count += 1_000;
                }

                var mean = Stopwatch.GetElapsedTime(start).TotalNanoseconds / count;
                means.Add(mean);
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name}: {mean:F0} ns per call"));
            }
            while (Stopwatch.GetTimestamp() < end);

            return means;
        }
        finally
        {
            InvokeMarked(type, typeof(GlobalCleanupAttribute), instance);
        }
    }

    private static void InvokeMarked(Type type, Type attribute, object instance)
    {
        foreach (var method in type.GetMethods(BindingFlags.Public | BindingFlags.Instance))
        {
            if (method.IsDefined(attribute))
            {
                method.Invoke(instance, null);
            }
        }
    }
}
