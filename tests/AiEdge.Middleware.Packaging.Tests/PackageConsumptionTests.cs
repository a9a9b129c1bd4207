using System.Net;
using System.Reflection;
using System.Text;

using AiEdge.Middleware.Testing;

namespace AiEdge.Middleware.Packaging.Tests;

/// <summary>
/// Packs every package of the suite into a local folder feed, restores the meta package from it into a fresh
/// consumer app outside the repository, and serves a request through the <c>AddAiEdge()</c> defaults.
/// </summary>
public sealed class PackageConsumptionTests
{
    [Fact]
    public async Task MetaPackage_FromALocalFeed_ServesWithDefaults()
    {
        var root = Commands.RepositoryRoot();
        var work = Directory.CreateTempSubdirectory("aiedge-pack-");
        try
        {
            var version = "0.0.0-test." + DateTime.UtcNow.ToString("yyyyMMddHHmmssfff", System.Globalization.CultureInfo.InvariantCulture);
            var feed = Directory.CreateDirectory(Path.Combine(work.FullName, "feed")).FullName;
            var configuration = typeof(PackageConsumptionTests).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";

            await Commands.RunAsync("dotnet", ["pack", Path.Combine(root, "AiEdge.Middleware.sln"), "-c", configuration, "--no-build", "-o", feed, $"-p:PackageVersion={version}"], root, isolated: false);

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

            await Commands.RunAsync("dotnet", ["build", "-c", "Release", "-o", Path.Combine(app, "out")], app);

            var port = Commands.FreePort();
            var output = new StringBuilder();
            using var server = Commands.StartApp("dotnet", [Path.Combine(app, "out", "Consumer.dll"), "--urls", $"http://127.0.0.1:{port}"], app, output);
            try
            {
                using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
                var response = await Commands.GetWhenListeningAsync(client, "/hello", server, output);

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
}
