using System.Diagnostics;

namespace AiEdge.Middleware.Benchmarks.Tests;

/// <summary>
/// Smoke-runs the load benchmark (tests/load/run.sh --quick): every target once, for a second, so the script, its
/// peers (bare Kestrel, the ASP.NET Core built-ins, NGINX, AiEdge) and its tables never rot. Nothing is timed.
/// </summary>
public sealed class LoadBenchmarkSmokeTests
{
    [Fact]
    public async Task LoadBenchmark_QuickMode_RunsEveryTargetAndPrintsTheTables()
    {
        var root = RepositoryRoot();
        var start = new ProcessStartInfo("bash")
        {
            WorkingDirectory = root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.ArgumentList.Add(Path.Combine(root, "tests", "load", "run.sh"));
        start.ArgumentList.Add("--quick");

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(15));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        var stdout = await output;
        var stderr = await error;
        Assert.True(process.ExitCode == 0, $"run.sh --quick exited with {process.ExitCode}:{Environment.NewLine}{stderr}{Environment.NewLine}{stdout}");
        foreach (var target in new[] { "bare-floor", "bare-miss", "builtins-train", "builtins-aa", "builtins-miss", "nginx-miss", "nginx-hit", "aiedge-miss", "aiedge-hit", "aiedge-limit", "aiedge-samejobs", "gateway-nginx", "gateway-aiedge", "gateway-yarp" })
        {
            Assert.Contains($"| {target} |", stdout, StringComparison.Ordinal);
        }

        Assert.Contains("| AiEdge without the cache / ASP.NET Core built-ins", stdout, StringComparison.Ordinal);
        Assert.Contains("| AiEdge hit / NGINX proxy_cache hit |", stdout, StringComparison.Ordinal);
        Assert.Contains("| AiEdge miss / NGINX proxy in front of bare Kestrel |", stdout, StringComparison.Ordinal);
        Assert.Contains("| Gateway: AiEdge + YARP / NGINX proxy", stdout, StringComparison.Ordinal);
        Assert.Contains("| Context: AiEdge doing only the built-ins' jobs / ASP.NET Core built-ins", stdout, StringComparison.Ordinal);
        Assert.Contains("| Context: AiEdge + YARP / YARP alone", stdout, StringComparison.Ordinal);
        Assert.Contains("| Control (A/A): ASP.NET Core built-ins in a second process / the same app", stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("| 0.00 |", stdout, StringComparison.Ordinal);

        // The gateway targets relay real answers (a key refused or a route missing would show as non-2xx), and the
        // same-jobs app answers its route.
        foreach (var line in stdout.Split('\n'))
        {
            if (line.StartsWith("| gateway-", StringComparison.Ordinal) || line.StartsWith("| aiedge-samejobs |", StringComparison.Ordinal))
            {
                Assert.EndsWith("| 0 |", line.TrimEnd(), StringComparison.Ordinal);
            }
        }
    }

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "AiEdge.Middleware.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("The repository root (AiEdge.Middleware.sln) was not found above " + AppContext.BaseDirectory);
    }
}
