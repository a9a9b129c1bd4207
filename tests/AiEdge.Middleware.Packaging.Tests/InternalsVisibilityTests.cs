using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.Loader;

using AiEdge.Middleware.Testing;

namespace AiEdge.Middleware.Packaging.Tests;

/// <summary>
/// Packages meet only through public API: every shipped assembly grants its internals to its own tests and to the
/// benchmarks, and to nothing else (no package sees another's internals, and no shared test helper sees any).
/// </summary>
public sealed class InternalsVisibilityTests
{
    private const string Benchmarks = "AiEdge.Middleware.Benchmarks";

    [Fact]
    public void EveryShippedAssembly_GrantsItsInternals_OnlyToItsOwnTestsAndTheBenchmarks()
    {
        var root = Commands.RepositoryRoot();
        var packages = Directory.GetDirectories(Path.Combine(root, "src"), "AiEdge.Middleware*");
        Assert.NotEmpty(packages);

        var context = new AssemblyLoadContext("aiedge-ivt", isCollectible: true);
        try
        {
            var violations = new List<string>();
            foreach (var directory in packages)
            {
                var name = Path.GetFileName(directory);
                if (!File.Exists(Path.Combine(directory, name + ".csproj")))
                {
                    continue;
                }

                var path = FindBuiltAssembly(root, directory, name);
                Assert.True(path is not null, $"{name}.dll was not found among the build outputs; build the suite first.");
                var assembly = context.LoadFromAssemblyPath(path!);
                foreach (var attribute in assembly.GetCustomAttributesData())
                {
                    if (attribute.AttributeType.FullName != typeof(InternalsVisibleToAttribute).FullName)
                    {
                        continue;
                    }

                    var friend = (string)attribute.ConstructorArguments[0].Value!;
                    var friendName = friend.Split(',')[0].Trim();
                    if (friendName != name + ".Tests" && friendName != Benchmarks)
                    {
                        violations.Add($"{name} grants its internals to {friend}");
                    }
                }
            }

            Assert.True(violations.Count == 0, string.Join(Environment.NewLine, violations));
        }
        finally
        {
            context.Unload();
        }
    }

    // The project's own build output, or the artifacts layout when AIEDGE_ARTIFACTS moves the outputs.
    private static string? FindBuiltAssembly(string root, string projectDirectory, string name)
    {
        var configuration = typeof(InternalsVisibilityTests).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
        string[] candidates =
        [
            Path.Combine(projectDirectory, "bin", configuration, "net10.0", name + ".dll"),
            Path.Combine(Environment.GetEnvironmentVariable("AIEDGE_ARTIFACTS") ?? Path.Combine(root, "artifacts"), "bin", name, configuration.ToLowerInvariant(), name + ".dll"),
        ];
        foreach (var candidate in candidates)
        {
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }
}
