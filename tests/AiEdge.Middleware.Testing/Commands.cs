using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Reflection;
using System.Text;

using Xunit;

namespace AiEdge.Middleware.Testing;

/// <summary>What the packaging and consumer-app tests share: the repository root, <c>dotnet</c> commands, and a consumer app run on a free port.</summary>
public static class Commands
{
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromMinutes(5);

    /// <summary>
    /// The folder holding AiEdge.Middleware.sln: the one recorded at build time, else the first above the test's
    /// output, else above the working directory (build outputs may live outside the tree, AIEDGE_ARTIFACTS).
    /// </summary>
    public static string RepositoryRoot()
    {
        var built = typeof(Commands).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(static a => a.Key == "RepositoryRoot")?.Value;
        if (built is not null && File.Exists(Path.Combine(built, "AiEdge.Middleware.sln")))
        {
            return built;
        }

        return FindAbove(AppContext.BaseDirectory) ?? FindAbove(Directory.GetCurrentDirectory())
            ?? throw new InvalidOperationException("AiEdge.Middleware.sln not found above the test's directory.");
    }

    /// <summary>A loopback port nothing listens on, reserved for the rest of the test process (<see cref="LoopbackPorts"/>).</summary>
    public static int FreePort() => LoopbackPorts.ReserveForProcess();

    /// <summary>
    /// Runs <paramref name="file"/> to completion within five minutes and fails with its output unless it exits with 0.
    /// <paramref name="isolated"/> keeps a build out of the working copy's build outputs (AIEDGE_ARTIFACTS);
    /// a <c>--no-build</c> pack of the working copy needs them.
    /// </summary>
    public static async Task RunAsync(string file, string[] arguments, string directory, bool isolated = true)
    {
        var output = new StringBuilder();
        using var process = Start(StartInfo(file, arguments, directory, isolated), output);
        using var timeout = new CancellationTokenSource(CommandTimeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', arguments)} did not finish in {CommandTimeout}.{Environment.NewLine}{output}");
        }

        Assert.True(process.ExitCode == 0, $"{file} {string.Join(' ', arguments)} exited with {process.ExitCode}:{Environment.NewLine}{output}");
    }

    /// <summary>Starts a consumer app in Production, collecting what it writes into <paramref name="output"/>.</summary>
    public static Process StartApp(string file, string[] arguments, string directory, StringBuilder output)
    {
        var info = StartInfo(file, arguments, directory, isolated: true);
        info.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        return Start(info, output);
    }

    /// <summary>Gets <paramref name="path"/> once the app listens (within 60 s); fails with its output if it exits first.</summary>
    public static async Task<HttpResponseMessage> GetWhenListeningAsync(HttpClient client, string path, Process server, StringBuilder output)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            if (server.HasExited)
            {
                await server.WaitForExitAsync();
                lock (output)
                {
                    Assert.Fail($"The consumer app exited with {server.ExitCode} before it served a request:{Environment.NewLine}{output}");
                }
            }

            try
            {
                return await client.GetAsync(path);
            }
            catch (HttpRequestException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(200);
            }
        }
    }

    private static string? FindAbove(string start)
    {
        for (var directory = new DirectoryInfo(start); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "AiEdge.Middleware.sln")))
            {
                return directory.FullName;
            }
        }

        return null;
    }

    private static ProcessStartInfo StartInfo(string file, string[] arguments, string directory, bool isolated)
    {
        var info = new ProcessStartInfo(file) { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        info.Environment["DOTNET_NOLOGO"] = "1";
        if (isolated)
        {
            // A copy of the source or a consumer app builds into its own folders, never into the working copy's outputs.
            info.Environment.Remove("AIEDGE_ARTIFACTS");
        }

        return info;
    }

    private static Process Start(ProcessStartInfo info, StringBuilder output)
    {
        var process = Process.Start(info)!;
        process.OutputDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.ErrorDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }
}
