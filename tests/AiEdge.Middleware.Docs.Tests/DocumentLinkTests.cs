using System.Text.RegularExpressions;

namespace AiEdge.Middleware.Docs.Tests;

/// <summary>
/// No document links outside the repository: every Markdown link of the README, docs/, the packages' and the samples'
/// READMEs is relative and names a file inside the repository that exists.
/// </summary>
public sealed partial class DocumentLinkTests
{
    public static TheoryData<string> Documents()
    {
        var root = DocsSnippetTests.RepositoryRoot();
        var data = new TheoryData<string>();
        var files = Directory.GetFiles(Path.Combine(root, "docs"), "*.md")
            .Append(Path.Combine(root, "README.md"))
            .Concat(Directory.GetFiles(Path.Combine(root, "src"), "README.md", SearchOption.AllDirectories))
            .Concat(Directory.GetFiles(Path.Combine(root, "samples"), "README.md", SearchOption.AllDirectories));
        foreach (var file in files)
        {
            if (!file.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !file.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            {
                data.Add(Path.GetRelativePath(root, file));
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Documents))]
    public void EveryLink_NamesAFileInsideTheRepository(string document)
    {
        var root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(DocsSnippetTests.RepositoryRoot()));
        var path = Path.Combine(root, document);
        var outside = new List<string>();
        foreach (Match link in MarkdownLink().Matches(File.ReadAllText(path)))
        {
            var target = link.Groups[1].Value;
            if (target.StartsWith('#'))
            {
                continue;
            }

            var file = target.Split('#')[0];
            var resolved = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(path)!, file));
            if (target.Contains("://", StringComparison.Ordinal) || target.StartsWith("mailto:", StringComparison.Ordinal)
                || !resolved.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal)
                || !(File.Exists(resolved) || Directory.Exists(resolved)))
            {
                outside.Add(target);
            }
        }

        Assert.True(outside.Count == 0, $"{document} links outside the repository (or to a missing file): {string.Join(", ", outside)}");
    }

    // [text](target) and [text](target "title"); images too.
    [GeneratedRegex(@"\]\(\s*<?([^)\s>]+)>?(?:\s+""[^""]*"")?\s*\)")]
    private static partial Regex MarkdownLink();
}
