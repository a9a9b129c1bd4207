using System.Diagnostics;
using System.Reflection;
using BenchmarkDotNet.Attributes;

namespace AiEdge.Middleware.Benchmarks;

/// <summary>
/// Runs one benchmark method in a loop for a number of seconds, for a profiler to attach to (<c>perf record -p</c>):
/// <c>dotnet run -c Release --project tests/AiEdge.Middleware.Benchmarks -- --spin HitPathBenchmarks.Hit_SamplePipeline 20</c>.
/// Prints the mean time per call of each second, a rough figure beside BenchmarkDotNet's.
/// </summary>
internal static class Spin
{
    public static void Run(string name, double seconds)
    {
        var dot = name.IndexOf('.', StringComparison.Ordinal);
        var type = typeof(Spin).Assembly.GetType(typeof(Spin).Namespace + "." + name[..dot])
            ?? throw new ArgumentException($"No benchmark class '{name[..dot]}'.", nameof(name));
        var method = type.GetMethod(name[(dot + 1)..]) ?? throw new ArgumentException($"No method '{name}'.", nameof(name));
        var instance = Activator.CreateInstance(type)!;
        Invoke(type, typeof(GlobalSetupAttribute), instance);
        try
        {
            var call = method.ReturnType == typeof(Task) || method.ReturnType.IsSubclassOf(typeof(Task))
                ? (Action)(() => ((Task)method.Invoke(instance, null)!).GetAwaiter().GetResult())
                : () => method.Invoke(instance, null);
            var end = Stopwatch.GetTimestamp() + (long)(seconds * Stopwatch.Frequency);
            while (Stopwatch.GetTimestamp() < end)
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

                Console.WriteLine($"{name}: {Stopwatch.GetElapsedTime(start).TotalNanoseconds / count:F0} ns per call");
            }
        }
        finally
        {
            Invoke(type, typeof(GlobalCleanupAttribute), instance);
        }
    }

    private static void Invoke(Type type, Type attribute, object instance)
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
