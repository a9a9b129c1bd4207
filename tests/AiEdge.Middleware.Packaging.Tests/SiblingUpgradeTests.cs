using System.IO.Compression;
using System.Net;
using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Text;
using System.Text.RegularExpressions;

using AiEdge.Middleware.Testing;

namespace AiEdge.Middleware.Packaging.Tests;

/// <summary>
/// Upgrades ONE package of the suite beside the older versions of its siblings, as a user who installs a newer
/// package alone does, and serves a request through the <c>AddAiEdge()</c> / <c>UseAiEdge()</c> defaults. The newer
/// package is packed from a copy of the source whose internals changed: internal types renamed and every
/// InternalsVisibleTo withdrawn. Its public API is unchanged (package validation checks it at pack), so the
/// siblings must keep working; one that reached the package's internals fails here at run time
/// (TypeLoadException, MissingMethodException, MethodAccessException) instead of in a user's app. See
/// docs/versioning.md.
/// </summary>
public sealed class SiblingUpgradeTests : IClassFixture<PackedSuite>
{

    private static readonly string[] LoadFailures =
    [
        "MissingMethodException", "MissingFieldException", "MissingMemberException", "TypeLoadException",
        "MethodAccessException", "FieldAccessException", "MemberAccessException", "TypeAccessException",
        "EntryPointNotFoundException", "FileLoadException",
    ];

    private readonly PackedSuite _suite;

    public SiblingUpgradeTests(PackedSuite suite) => _suite = suite;

    [Theory]
    [InlineData("AiEdge.Middleware.Core")]
    [InlineData("AiEdge.Middleware.Security")]
    public async Task OnePackageWithChangedInternals_BesideOlderSiblings_ServesWithDefaults(string package)
    {
        var work = Directory.CreateTempSubdirectory("aiedge-upgrade-");
        try
        {
            var newer = _suite.Version.Replace("0.0.1-", "0.0.2-", StringComparison.Ordinal);
            var feed = Directory.CreateDirectory(Path.Combine(work.FullName, "feed")).FullName;
            foreach (var file in Directory.GetFiles(_suite.Feed, "*.nupkg"))
            {
                File.Copy(file, Path.Combine(feed, Path.GetFileName(file)));
            }

            var source = CopySource(_suite.Root, Path.Combine(work.FullName, "source"));
            var renamed = ChangeInternals(source, package, _suite.Feed, _suite.Version);
            // The copy is no git repository: no source link; package validation against the baseline stays on.
            await Commands.RunAsync("dotnet", ["pack", Path.Combine(source, "src", package, package + ".csproj"), "-c", "Release", "-o", feed, $"-p:PackageVersion={_suite.Version}", "-p:EnableSourceLink=false", "-p:EnableSourceControlManagerQueries=false", "-p:IncludeSymbols=false"], source);
            Assert.True(File.Exists(Path.Combine(feed, $"{package}.{newer}.nupkg")), $"{package} {newer} was not packed.");

            var app = Directory.CreateDirectory(Path.Combine(work.FullName, "consumer")).FullName;
            await WriteConsumerAsync(app, feed, ("AiEdge.Middleware", _suite.Version), (package, newer));
            await Commands.RunAsync("dotnet", ["build", "-c", "Release", "-o", Path.Combine(app, "out")], app);

            // The app really runs the newer package beside the older siblings.
            var dependencies = await File.ReadAllTextAsync(Path.Combine(app, "out", "Consumer.deps.json"));
            Assert.Contains($"\"{package}/{newer}\"", dependencies, StringComparison.Ordinal);
            Assert.Contains($"\"AiEdge.Middleware/{_suite.Version}\"", dependencies, StringComparison.Ordinal);

            var output = new StringBuilder();
            var port = Commands.FreePort();
            using var server = Commands.StartApp("dotnet", [Path.Combine(app, "out", "Consumer.dll"), "--urls", $"http://127.0.0.1:{port}"], app, output);
            try
            {
                using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
                var response = await Commands.GetWhenListeningAsync(client, "/hello", server, output);

                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                Assert.Equal("hello from an upgraded package", await response.Content.ReadAsStringAsync());
                Assert.Equal("nosniff", Assert.Single(response.Headers.GetValues("X-Content-Type-Options")));

                using var missing = await client.GetAsync("/missing");
                Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
                Assert.Equal("application/problem+json", missing.Content.Headers.ContentType?.MediaType);

                using var health = await client.GetAsync("/healthz");
                Assert.Equal(HttpStatusCode.OK, health.StatusCode);
            }
            finally
            {
                server.Kill(entireProcessTree: true);
                await server.WaitForExitAsync();
            }

            string log;
            lock (output)
            {
                log = output.ToString();
            }

            foreach (var failure in LoadFailures)
            {
                Assert.False(log.Contains(failure, StringComparison.Ordinal), $"{package} {newer} (internal types renamed: {renamed}) beside siblings {_suite.Version} failed with {failure}:{Environment.NewLine}{log}");
            }
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }

    /// <summary>
    /// Changes the internals of <paramref name="package"/> in the copy: renames its internal top-level types (those
    /// a sibling references, or one if none does), withdraws every InternalsVisibleTo, and packs the project at a
    /// higher version than its siblings. Returns the renamed types.
    /// </summary>
    private static string ChangeInternals(string source, string package, string feed, string version)
    {
        var projectDirectory = Path.Combine(source, "src", package);
        var files = Directory.GetFiles(projectDirectory, "*.cs", SearchOption.AllDirectories);
        var text = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var file in files)
        {
            text[file] = File.ReadAllText(file);
        }

        // Internal types declared in the package's source, read from the assembly the suite shipped.
        var declared = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var name in InternalTopLevelTypes(ReadAssembly(Path.Combine(feed, $"{package}.{version}.nupkg"), package)))
        {
            var declaration = new Regex($@"\b(class|struct|interface|enum|record)\s+{Regex.Escape(name)}\b");
            foreach (var content in text.Values)
            {
                if (declaration.IsMatch(content))
                {
                    declared.Add(name);
                    break;
                }
            }
        }

        Assert.NotEmpty(declared);

        var referenced = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var sibling in Directory.GetFiles(feed, "*.nupkg"))
        {
            var id = Path.GetFileName(sibling)[..^($".{version}.nupkg".Length)];
            if (id != package)
            {
                foreach (var name in TypesReferencedFrom(ReadAssembly(sibling, id), package))
                {
                    if (declared.Contains(name))
                    {
                        referenced.Add(name);
                    }
                }
            }
        }

        var rename = referenced.Count > 0 ? referenced : new SortedSet<string>(StringComparer.Ordinal) { declared.Min! };
        foreach (var file in files)
        {
            var content = text[file];
            foreach (var name in rename)
            {
                content = Regex.Replace(content, $@"\b{Regex.Escape(name)}\b", name + "Upgraded");
            }

            if (!ReferenceEquals(content, text[file]))
            {
                File.WriteAllText(file, content);
            }
        }

        // The project packs at the newer version while its project references keep the suite's version, and no
        // other assembly sees its internals any more.
        var csproj = Path.Combine(projectDirectory, package + ".csproj");
        var newer = version.Replace("0.0.1-", "0.0.2-", StringComparison.Ordinal);
        var project = File.ReadAllText(csproj);
        project = new Regex("<Project\\b").Replace(project, "<Project TreatAsLocalProperty=\"PackageVersion\"", 1);
        var end = project.LastIndexOf("</Project>", StringComparison.Ordinal);
        project = project[..end] + $"""
              <PropertyGroup>
                <PackageVersion>{newer}</PackageVersion>
              </PropertyGroup>
              <ItemGroup>
                <InternalsVisibleTo Remove="@(InternalsVisibleTo)" />
              </ItemGroup>
            </Project>
            """;
        File.WriteAllText(csproj, project);
        return string.Join(", ", rename);
    }

    private static byte[] ReadAssembly(string nupkg, string id)
    {
        using var archive = ZipFile.OpenRead(nupkg);
        foreach (var entry in archive.Entries)
        {
            if (entry.FullName.StartsWith("lib/", StringComparison.Ordinal) && entry.Name == id + ".dll")
            {
                using var stream = entry.Open();
                using var buffer = new MemoryStream();
                stream.CopyTo(buffer);
                return buffer.ToArray();
            }
        }

        throw new InvalidOperationException($"{nupkg} has no lib/*/{id}.dll.");
    }

    private static List<string> InternalTopLevelTypes(byte[] assembly)
    {
        using var pe = new PEReader(new MemoryStream(assembly));
        var reader = pe.GetMetadataReader();
        var names = new List<string>();
        foreach (var handle in reader.TypeDefinitions)
        {
            var type = reader.GetTypeDefinition(handle);
            var name = reader.GetString(type.Name);
            if ((type.Attributes & TypeAttributes.VisibilityMask) == TypeAttributes.NotPublic && !name.Contains('<') && name != "<Module>")
            {
                var tick = name.IndexOf('`', StringComparison.Ordinal);
                names.Add(tick < 0 ? name : name[..tick]);
            }
        }

        return names;
    }

    private static List<string> TypesReferencedFrom(byte[] assembly, string target)
    {
        using var pe = new PEReader(new MemoryStream(assembly));
        var reader = pe.GetMetadataReader();
        var names = new List<string>();
        foreach (var handle in reader.TypeReferences)
        {
            var type = reader.GetTypeReference(handle);
            if (type.ResolutionScope.Kind == HandleKind.AssemblyReference
                && reader.GetString(reader.GetAssemblyReference((AssemblyReferenceHandle)type.ResolutionScope).Name) == target)
            {
                var name = reader.GetString(type.Name);
                var tick = name.IndexOf('`', StringComparison.Ordinal);
                names.Add(tick < 0 ? name : name[..tick]);
            }
        }

        return names;
    }

    /// <summary>Copies what a pack of src/ needs (root build files, eng/, src/) without build outputs.</summary>
    private static string CopySource(string root, string destination)
    {
        Directory.CreateDirectory(destination);
        foreach (var file in Directory.GetFiles(root))
        {
            File.Copy(file, Path.Combine(destination, Path.GetFileName(file)));
        }

        foreach (var folder in new[] { "src", "eng" })
        {
            if (Directory.Exists(Path.Combine(root, folder)))
            {
                CopyTree(Path.Combine(root, folder), Path.Combine(destination, folder));
            }
        }

        return destination;
    }

    private static void CopyTree(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from))
        {
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        }

        foreach (var folder in Directory.GetDirectories(from))
        {
            var name = Path.GetFileName(folder);
            if (name is not ("bin" or "obj" or "artifacts" or "TestResults"))
            {
                CopyTree(folder, Path.Combine(to, name));
            }
        }
    }

    private static async Task WriteConsumerAsync(string app, string feed, params (string Id, string Version)[] references)
    {
        var items = new StringBuilder();
        foreach (var (id, version) in references)
        {
            items.Append("    <PackageReference Include=\"").Append(id).Append("\" Version=\"").Append(version).Append("\" />\n");
        }

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
            {items}  </ItemGroup>
            </Project>
            """);
        await File.WriteAllTextAsync(Path.Combine(app, "Program.cs"), """
            var builder = WebApplication.CreateBuilder(args);
            builder.Services.AddAiEdge();
            var app = builder.Build();
            app.UseAiEdge();
            app.MapGet("/hello", () => "hello from an upgraded package");
            app.Run();
            """);
    }
}
