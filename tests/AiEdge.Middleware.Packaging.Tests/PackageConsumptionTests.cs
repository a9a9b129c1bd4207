using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Reflection;
using System.Text;

namespace AiEdge.Middleware.Packaging.Tests;

/// <summary>
/// Packs every package of the suite into a local folder feed, restores the meta package from it into a fresh
/// consumer app outside the repository, and serves a request through the <c>AddAiEdge()</c> defaults.
/// </summary>
public sealed class PackageConsumptionTests
{
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromMinutes(5);

    [Fact]
    public async Task MetaPackage_FromALocalFeed_ServesWithDefaults()
    {
        var root = FindRepositoryRoot();
        var work = Directory.CreateTempSubdirectory("aiedge-pack-");
        try
        {
            var version = "0.0.0-test." + DateTime.UtcNow.ToString("yyyyMMddHHmmssfff", System.Globalization.CultureInfo.InvariantCulture);
            var feed = Directory.CreateDirectory(Path.Combine(work.FullName, "feed")).FullName;
            var configuration = typeof(PackageConsumptionTests).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";

            await RunAsync("dotnet", ["pack", Path.Combine(root, "AiEdge.Middleware.sln"), "-c", configuration, "--no-build", "-o", feed, $"-p:PackageVersion={version}"], root);

            var packages = Directory.GetFiles(feed, "*.nupkg");
            foreach (var name in new[] { "AiEdge.Middleware", "AiEdge.Middleware.Core", "AiEdge.Middleware.ForwardedHeaders", "AiEdge.Middleware.RateLimiting", "AiEdge.Middleware.Caching", "AiEdge.Middleware.Streaming", "AiEdge.Middleware.Security", "AiEdge.Middleware.Authentication", "AiEdge.Middleware.Resilience", "AiEdge.Middleware.Health", "AiEdge.Middleware.Redis", "AiEdge.Middleware.OpenTelemetry" })
            {
                Assert.Contains(Path.Combine(feed, $"{name}.{version}.nupkg"), packages);
                Assert.True(File.Exists(Path.Combine(feed, $"{name}.{version}.snupkg")), $"{name} has no symbols package");
            }

            var app = Directory.CreateDirectory(Path.Combine(work.FullName, "consumer")).FullName;
            await File.WriteAllTextAsync(Path.Combine(app, "nuget.config"), $"""
                <?xml version="1.0" encoding="utf-8"?>
                <configuration>
                  <packageSources>
                    <add key="local" value="{feed}" />
                  </packageSources>
                </configuration>
                """);
            await File.WriteAllTextAsync(Path.Combine(app, "Consumer.csproj"), $"""
                <Project Sdk="Microsoft.NET.Sdk.Web">
                  <PropertyGroup>
                    <TargetFramework>net10.0</TargetFramework>
                    <Nullable>enable</Nullable>
                    <ImplicitUsings>enable</ImplicitUsings>
                  </PropertyGroup>
                  <ItemGroup>
                    <PackageReference Include="AiEdge.Middleware" Version="{version}" />
                  </ItemGroup>
                </Project>
                """);
            await File.WriteAllTextAsync(Path.Combine(app, "Program.cs"), """
                var builder = WebApplication.CreateBuilder(args);
                builder.Services.AddAiEdge();
                var app = builder.Build();
                app.UseAiEdge();
                app.MapGet("/hello", () => "hello from a package consumer");
                app.Run();
                """);

            await RunAsync("dotnet", ["build", "-c", "Release", "-o", Path.Combine(app, "out")], app);

            var port = FreePort();
            using var server = Start("dotnet", [Path.Combine(app, "out", "Consumer.dll"), "--urls", $"http://127.0.0.1:{port}"], app);
            try
            {
                using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
                var response = await GetWhenListeningAsync(client, "/hello", server);

                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                Assert.Equal("hello from a package consumer", await response.Content.ReadAsStringAsync());
                Assert.Equal("nosniff", Assert.Single(response.Headers.GetValues("X-Content-Type-Options")));
                Assert.False(response.Headers.Contains("Server"));

                using var missing = await client.GetAsync("/missing");
                Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
                Assert.Equal("application/problem+json", missing.Content.Headers.ContentType?.MediaType);
            }
            finally
            {
                server.Kill(entireProcessTree: true);
            }
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }

    private static async Task<HttpResponseMessage> GetWhenListeningAsync(HttpClient client, string path, Process server)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            Assert.False(server.HasExited, "The consumer app exited before it served a request.");
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

    private static string FindRepositoryRoot()
    {
        var built = typeof(PackageConsumptionTests).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyMetadataAttribute), false)
            .Cast<System.Reflection.AssemblyMetadataAttribute>().FirstOrDefault(static a => a.Key == "RepositoryRoot")?.Value;
        if (built is not null && File.Exists(Path.Combine(built, "AiEdge.Middleware.sln")))
        {
            return built;
        }

        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "AiEdge.Middleware.sln")))
            {
                return directory.FullName;
            }
        }

        // Build outputs may live outside the tree (AIEDGE_ARTIFACTS): fall back to the working directory.
        for (var directory = new DirectoryInfo(Directory.GetCurrentDirectory()); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "AiEdge.Middleware.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("AiEdge.Middleware.sln not found above the test's directory.");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static Process Start(string file, string[] arguments, string directory)
    {
        var info = new ProcessStartInfo(file) { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        info.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        var process = Process.Start(info)!;
        process.OutputDataReceived += static (_, _) => { };
        process.ErrorDataReceived += static (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static async Task RunAsync(string file, string[] arguments, string directory)
    {
        var info = new ProcessStartInfo(file) { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        info.Environment["DOTNET_NOLOGO"] = "1";
        using var process = Process.Start(info)!;
        var output = new StringBuilder();
        process.OutputDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.ErrorDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
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
}
