using System.Reflection;
using Microsoft.Extensions.Logging;

namespace AiEdge.Middleware.Docs.Tests;

/// <summary>
/// Every <see cref="LoggerMessageAttribute"/> event of every package under src/ has its own id and name, and appears
/// in the "Log events" table of docs/observability.md with the same name, level and package. Events added on
/// different branches collide here after a merge, with the colliding ids named.
/// </summary>
public sealed class LogEventTests
{
    private const string Prefix = "AiEdge.Middleware.";
    private const string Doc = "docs/observability.md";
    private const string Section = "## Log events";

    private static readonly Lazy<IReadOnlyList<LogEvent>> Events = new(FindEvents);

    [Fact]
    public void EventsFound_InEveryPackageThatLogs()
    {
        Assert.Contains(Events.Value, static e => e.Package == "ForwardedHeaders");
        Assert.Contains(Events.Value, static e => e.Package == "Core" && e.Id == 1900);
        Assert.True(Events.Value.Count >= 50, $"only {Events.Value.Count} events found");
    }

    [Fact]
    public void EventIds_AreUniqueAcrossTheSuite()
    {
        var collisions = Describe(Events.Value.GroupBy(static e => e.Id).Where(static g => g.Count() > 1), static id => $"event id {id}");
        Assert.True(collisions.Length == 0, $"Event ids used more than once (each package has its own block, see {Doc}#log-events):\n{collisions}");
    }

    [Fact]
    public void EventNames_AreUniqueAcrossTheSuite()
    {
        var collisions = Describe(Events.Value.GroupBy(static e => e.Name, StringComparer.Ordinal).Where(static g => g.Count() > 1), static name => $"EventName \"{name}\"");
        Assert.True(collisions.Length == 0, $"Event names used more than once:\n{collisions}");
    }

    [Fact]
    public void EveryEvent_IsListedInTheObservabilityDocs()
    {
        var table = ReadTable();
        var problems = new List<string>();
        foreach (var e in Events.Value.OrderBy(static e => e.Id))
        {
            var rows = table.Where(r => r.Id == e.Id).ToList();
            if (rows.Count == 0)
            {
                problems.Add($"{e.Id} missing: add \"| {e.Id} | `{e.Name}` | {e.Level} | {e.Package} | ... |\" ({e.Where})");
                continue;
            }

            var row = rows[0];
            if (row.Name != e.Name || row.Level != e.Level.ToString() || row.Package != e.Package)
            {
                problems.Add($"{e.Id} differs: the table says {row.Name}, {row.Level}, {row.Package}; the code says {e.Name}, {e.Level}, {e.Package} ({e.Where})");
            }
        }

        foreach (var group in table.GroupBy(static r => r.Id).Where(static g => g.Count() > 1))
        {
            problems.Add($"{group.Key} is listed {group.Count()} times");
        }

        foreach (var row in table.Where(r => !Events.Value.Any(e => e.Id == r.Id)))
        {
            problems.Add($"{row.Id} ({row.Name}) is listed but no [LoggerMessage] has that id");
        }

        Assert.True(problems.Count == 0, $"The \"Log events\" table of {Doc} does not match the code:\n{string.Join('\n', problems)}");
    }

    private static string Describe<TKey>(IEnumerable<IGrouping<TKey, LogEvent>> groups, Func<TKey, string> key)
        => string.Join('\n', groups.Select(g => $"{key(g.Key)}: {string.Join("; ", g.Select(static e => $"{e.Id} {e.Name} in {e.Where}"))}"));

    private static List<LogEvent> FindEvents()
    {
        var src = Path.Combine(DocsSnippetTests.RepositoryRoot(), "src");
        var events = new List<LogEvent>();
        foreach (var project in Directory.GetFiles(src, "*.csproj", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var name = Path.GetFileNameWithoutExtension(project);
            Assembly assembly;
            try
            {
                assembly = Assembly.Load(new AssemblyName(name));
            }
            catch (FileNotFoundException)
            {
                Assert.Fail($"{name} is not loaded by the docs tests: reference it from src/AiEdge.Middleware (the meta-package) so its log events are checked.");
                throw;
            }

            var package = name == "AiEdge.Middleware" ? name : name[Prefix.Length..];
            foreach (var type in assembly.GetTypes())
            {
                foreach (var method in type.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.Instance | BindingFlags.DeclaredOnly))
                {
                    if (method.GetCustomAttribute<LoggerMessageAttribute>() is { } attribute)
                    {
                        events.Add(new LogEvent(attribute.EventId, attribute.EventName ?? method.Name, attribute.Level, package, $"{name}: {type.FullName}.{method.Name}"));
                    }
                }
            }
        }

        return events;
    }

    private static List<Row> ReadTable()
    {
        var lines = File.ReadAllLines(Path.Combine(DocsSnippetTests.RepositoryRoot(), Doc));
        var start = Array.IndexOf(lines, Section);
        Assert.True(start >= 0, $"{Doc} has no \"{Section}\" section.");
        var rows = new List<Row>();
        for (var i = start + 1; i < lines.Length && !lines[i].StartsWith("## ", StringComparison.Ordinal); i++)
        {
            var cells = lines[i].Split('|', StringSplitOptions.TrimEntries);
            if (cells.Length >= 6 && int.TryParse(cells[1], out var id))
            {
                rows.Add(new Row(id, cells[2].Trim('`'), cells[3], cells[4]));
            }
        }

        return rows;
    }

    private sealed record LogEvent(int Id, string Name, LogLevel Level, string Package, string Where);

    private sealed record Row(int Id, string Name, string Level, string Package);
}
