using System.Globalization;
using System.Reflection;
using System.Text.RegularExpressions;
using Xunit;

namespace AiEdge.Middleware.Testing;

/// <summary>
/// The suite packed once, at one version, into a local folder feed (the meta package and every package it
/// references), as a user's <c>dotnet pack</c> to a local feed makes it. A class or collection fixture: every case
/// starts from the same feed.
/// </summary>
public sealed partial class PackedSuite : IAsyncLifetime
{
    private DirectoryInfo? _work;

    /// <summary>Gets the repository root.</summary>
    public string Root { get; } = Commands.RepositoryRoot();

    /// <summary>Gets the version every package of the suite is packed at.</summary>
    public string Version { get; } = "0.0.1-suite." + DateTime.UtcNow.ToString("yyyyMMddHHmmssfff", CultureInfo.InvariantCulture);

    /// <summary>Gets the folder feed holding the suite.</summary>
    public string Feed { get; private set; } = "";

    /// <inheritdoc />
    public async Task InitializeAsync()
    {
        _work = Directory.CreateTempSubdirectory("aiedge-suite-");
        Feed = Directory.CreateDirectory(Path.Combine(_work.FullName, "feed")).FullName;
        var configuration = typeof(PackedSuite).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";

        // The build of the test project built the suite; validation against the baseline is the release pack's job.
        var meta = Path.Combine(Root, "src", "AiEdge.Middleware", "AiEdge.Middleware.csproj");
        foreach (var project in ProjectReferences(meta).Append(meta))
        {
            await Commands.RunAsync("dotnet", ["pack", project, "-c", configuration, "--no-build", "-o", Feed, $"-p:PackageVersion={Version}", "-p:EnablePackageValidation=false", "-p:IncludeSymbols=false"], Root, isolated: false);
        }
    }

    /// <summary>
    /// Writes a <c>nuget.config</c> into <paramref name="directory"/> that adds the feed beside the user's sources.
    /// </summary>
    /// <param name="directory">The consumer app's folder.</param>
    /// <returns>A task that completes when the file is written.</returns>
    public Task WriteNuGetConfigAsync(string directory)
        => File.WriteAllTextAsync(Path.Combine(directory, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <add key="aiedge-local" value="{Feed}" />
              </packageSources>
            </configuration>
            """);

    /// <inheritdoc />
    public Task DisposeAsync()
    {
        _work?.Delete(recursive: true);
        return Task.CompletedTask;
    }

    private static IEnumerable<string> ProjectReferences(string project)
    {
        var directory = Path.GetDirectoryName(project)!;
        foreach (Match match in ProjectReference().Matches(File.ReadAllText(project)))
        {
            yield return Path.GetFullPath(Path.Combine(directory, match.Groups[1].Value.Replace('\\', Path.DirectorySeparatorChar)));
        }
    }

    [GeneratedRegex("<ProjectReference\\s+Include=\"([^\"]+)\"")]
    private static partial Regex ProjectReference();
}
