using System.Diagnostics;
using System.Text;
using AiEdge.Middleware.Testing;

namespace AiEdge.Middleware.Consumer.Tests;

/// <summary>A consumer app built once from a template; <see cref="StartAsync"/> runs it on a free loopback port.</summary>
public sealed class ConsumerApp
{
    private ConsumerApp(string name, string directory)
    {
        Name = name;
        Directory = directory;
    }

    /// <summary>The project's name (its assembly).</summary>
    public string Name { get; }

    /// <summary>The project's folder.</summary>
    public string Directory { get; }

    /// <summary>
    /// Generates <paramref name="template"/> into <paramref name="parent"/>, lets <paramref name="edit"/> change it as a
    /// user would, references the packed suite (and <paramref name="packages"/>) from the local feed, and builds it.
    /// </summary>
    public static async Task<ConsumerApp> CreateAsync(
        PackedSuite suite,
        string parent,
        string name,
        string[] template,
        IEnumerable<(string Id, string Version)> packages,
        Func<string, Task> edit)
    {
        var directory = Path.Combine(parent, name);
        await Commands.RunAsync("dotnet", ["new", .. template, "-n", name, "-o", directory, "--no-restore"], parent);
        await suite.WriteNuGetConfigAsync(directory);
        var project = Path.Combine(directory, name + ".csproj");
        var references = new StringBuilder();
        references.AppendLine("  <ItemGroup>");
        references.AppendLine($"    <PackageReference Include=\"AiEdge.Middleware\" Version=\"{suite.Version}\" />");
        foreach (var (id, version) in packages)
        {
            references.AppendLine($"    <PackageReference Include=\"{id}\" Version=\"{version}\" />");
        }

        references.AppendLine("  </ItemGroup>");
        var text = await File.ReadAllTextAsync(project);
        await File.WriteAllTextAsync(project, text.Replace("</Project>", references + "</Project>", StringComparison.Ordinal));
        await edit(directory);
        await Commands.RunAsync("dotnet", ["build", "-c", "Release", "-o", Path.Combine(directory, "out")], directory);
        return new ConsumerApp(name, directory);
    }

    /// <summary>Starts the built app with <paramref name="arguments"/> (configuration as <c>--Key=value</c>) and waits until it serves.</summary>
    public async Task<RunningApp> StartAsync(params string[] arguments)
    {
        var port = Commands.FreePort();
        var output = new StringBuilder();
        var process = Commands.StartApp("dotnet", [Path.Combine(Directory, "out", Name + ".dll"), "--urls", $"http://127.0.0.1:{port}", .. arguments], Directory, output);
        var running = new RunningApp(process, output, new Uri($"http://127.0.0.1:{port}"));
        try
        {
            using var ready = await Commands.GetWhenListeningAsync(running.Client, "/healthz", process, output);
        }
        catch
        {
            running.Dispose();
            throw;
        }

        return running;
    }

    /// <summary>Runs the built app with <paramref name="arguments"/> and returns what it wrote once it exited (within 60 s).</summary>
    public async Task<(int ExitCode, string Output)> RunToExitAsync(params string[] arguments)
    {
        var output = new StringBuilder();
        using var process = Commands.StartApp("dotnet", [Path.Combine(Directory, "out", Name + ".dll"), "--urls", $"http://127.0.0.1:{Commands.FreePort()}", .. arguments], Directory, output);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            lock (output)
            {
                Assert.Fail($"{Name} did not exit:{Environment.NewLine}{output}");
            }
        }

        lock (output)
        {
            return (process.ExitCode, output.ToString());
        }
    }
}

/// <summary>A running consumer app; disposing it stops the process.</summary>
public sealed class RunningApp(Process process, StringBuilder output, Uri address) : IDisposable
{
    /// <summary>A client bound to the app.</summary>
    public HttpClient Client { get; } = new() { BaseAddress = address, Timeout = TimeSpan.FromSeconds(30) };

    /// <summary>What the app wrote so far.</summary>
    public string Output
    {
        get
        {
            lock (output)
            {
                return output.ToString();
            }
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Client.Dispose();
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
        }

        process.Dispose();
    }
}
