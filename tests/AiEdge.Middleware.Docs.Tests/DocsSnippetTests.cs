using System.Text.RegularExpressions;

namespace AiEdge.Middleware.Docs.Tests;

/// <summary>
/// Every code block in the docs preceded by <c>&lt;!-- snippet: path[#region] --&gt;</c> must equal that file (or
/// that <c>#region</c> of it) as it is compiled and tested, so the docs never show code that does not build.
/// </summary>
public sealed partial class DocsSnippetTests
{
    public static TheoryData<string, int, string> Snippets()
    {
        var data = new TheoryData<string, int, string>();
        var root = RepositoryRoot();
        foreach (var file in Directory.GetFiles(Path.Combine(root, "docs"), "*.md").Append(Path.Combine(root, "README.md")))
        {
            var lines = File.ReadAllLines(file);
            for (var i = 0; i < lines.Length; i++)
            {
                var match = SnippetMarker().Match(lines[i]);
                if (match.Success)
                {
                    data.Add(Path.GetRelativePath(root, file), i + 1, match.Groups[1].Value);
                }
            }
        }

        return data;
    }

    [Fact]
    public void TheMigrationGuide_HasCompiledSnippets()
        => Assert.True(Snippets().Count(static row => (string)row[0] == Path.Combine("docs", "migrating-from-nginx.md")) >= 4);

    [Fact]
    public void EveryCSharpBlockInTheDocs_IsACompiledSnippet()
    {
        var root = RepositoryRoot();
        var unmarked = new List<string>();
        foreach (var file in Directory.GetFiles(Path.Combine(root, "docs"), "*.md").Append(Path.Combine(root, "README.md")))
        {
            var lines = File.ReadAllLines(file);
            var inBlock = false;
            for (var i = 0; i < lines.Length; i++)
            {
                if (!lines[i].StartsWith("```", StringComparison.Ordinal))
                {
                    continue;
                }

                if (!inBlock && lines[i].Trim() is "```csharp" or "```cs" or "```c#")
                {
                    var previous = i - 1;
                    while (previous >= 0 && string.IsNullOrWhiteSpace(lines[previous]))
                    {
                        previous--;
                    }

                    if (previous < 0 || !SnippetMarker().IsMatch(lines[previous]))
                    {
                        unmarked.Add($"{Path.GetRelativePath(root, file)}:{i + 1}");
                    }
                }

                inBlock = !inBlock;
            }
        }

        Assert.True(unmarked.Count == 0, "C# blocks without a <!-- snippet: ... --> marker: " + string.Join(", ", unmarked));
    }

    [Theory]
    [MemberData(nameof(Snippets))]
    public void Snippet_EqualsTheCompiledSource(string document, int line, string source)
    {
        var root = RepositoryRoot();
        var lines = File.ReadAllLines(Path.Combine(root, document));
        var block = ReadFencedBlock(lines, line, document);

        var hash = source.IndexOf('#', StringComparison.Ordinal);
        var path = Path.Combine(root, hash < 0 ? source : source[..hash]);
        Assert.True(File.Exists(path), $"{document}:{line} names {source}, which does not exist.");
        var expected = hash < 0 ? File.ReadAllLines(path).ToList() : ReadRegion(File.ReadAllLines(path), source[(hash + 1)..], source);

        Assert.Equal(Normalize(expected), Normalize(block));
    }

    private static List<string> ReadFencedBlock(string[] lines, int markerLine, string document)
    {
        var i = markerLine;
        while (i < lines.Length && string.IsNullOrWhiteSpace(lines[i]))
        {
            i++;
        }

        Assert.True(i < lines.Length && lines[i].StartsWith("```", StringComparison.Ordinal), $"{document}:{markerLine}: a snippet marker must be followed by a fenced code block.");
        var block = new List<string>();
        for (i++; i < lines.Length && !lines[i].StartsWith("```", StringComparison.Ordinal); i++)
        {
            block.Add(lines[i]);
        }

        return block;
    }

    private static List<string> ReadRegion(string[] lines, string region, string source)
    {
        var start = Array.FindIndex(lines, l => l.Trim() == "#region " + region);
        Assert.True(start >= 0, $"#region {region} not found in {source}.");
        var region_ = new List<string>();
        for (var i = start + 1; i < lines.Length && lines[i].Trim() != "#endregion"; i++)
        {
            region_.Add(lines[i]);
        }

        return region_;
    }

    private static string Normalize(List<string> lines)
    {
        var indent = int.MaxValue;
        foreach (var line in lines)
        {
            if (!string.IsNullOrWhiteSpace(line))
            {
                indent = Math.Min(indent, line.Length - line.TrimStart().Length);
            }
        }

        return string.Join('\n', lines.Select(l => string.IsNullOrWhiteSpace(l) ? string.Empty : l[Math.Min(indent, l.Length)..].TrimEnd())).Trim('\n');
    }

    internal static string RepositoryRoot()
    {
        var built = typeof(DocsSnippetTests).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyMetadataAttribute), false)
            .Cast<System.Reflection.AssemblyMetadataAttribute>().FirstOrDefault(static a => a.Key == "RepositoryRoot")?.Value;
        if (built is not null && File.Exists(Path.Combine(built, "AiEdge.Middleware.sln")))
        {
            return built;
        }

        foreach (var start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
        {
            for (var directory = new DirectoryInfo(start); directory is not null; directory = directory.Parent)
            {
                if (File.Exists(Path.Combine(directory.FullName, "AiEdge.Middleware.sln")))
                {
                    return directory.FullName;
                }
            }
        }

        throw new InvalidOperationException("AiEdge.Middleware.sln not found.");
    }

    [GeneratedRegex(@"^<!-- snippet: (\S+) -->\s*$")]
    private static partial Regex SnippetMarker();
}
