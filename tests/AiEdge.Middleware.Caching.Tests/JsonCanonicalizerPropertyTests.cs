using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using AiEdge.Middleware.Caching.Internal;
using AiEdge.Middleware.Internal;
using FsCheck;
using FsCheck.Fluent;

namespace AiEdge.Middleware.Caching.Tests;

/// <summary>
/// The cache key's contract as properties over generated documents and random re-spellings of them (escapes in
/// names and strings, whitespace, member order): equal canonical forms mean that System.Text.Json, configured as the
/// endpoint's binding is, reads equal values from both documents; re-spelling a document never changes its form; and
/// a document has no form exactly when one of its objects repeats a name under the binding's comparison.
/// </summary>
public sealed class JsonCanonicalizerPropertyTests
{
    private static readonly Config Config = Config.QuickThrowOnFailure.WithMaxTest(500);

    // Equal forms of a document and one near it are rarer than the other cases: more runs.
    private static readonly Config ContractConfig = Config.QuickThrowOnFailure.WithMaxTest(3000);

    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);

    private static readonly JsonSerializerOptions CaseSensitiveWeb = new(JsonSerializerDefaults.Web) { PropertyNameCaseInsensitive = false };

    private static readonly string[] NoExclusions = [];

    // Names the probe binds, their case variants, names only a careless case folding would confuse with them, and
    // names that need escapes or are not in the BMP.
    private static readonly string[] NamePool =
    [
        "model", "Model", "input", "Input", "INPUT", "\u0131nput", "\u0130NPUT", "delay_ms", "Delay_MS", "delayMs", "temperature",
        "Temperature", "score", "options", "Options", "mode", "MODE", "level", "k", "K", "\u212A", "tags", "flags", "s", "\u017F",
        "\U00010400", "\U00010428", "", "x\u0000", "\u00e9", "\u00c9", "\u00df", "user", "USER", "a\"b", "a\\b",
    ];

    // Pieces of text (a surrogate pair is one piece) with the characters escaping and decoding care about.
    private static readonly string[] TextPieces =
    [
        "a", "B", "i", "\u0131", " ", "\"", "\\", "/", "\u0000", "\n", "\t", "\u001f", "\u007f", "\u00e9", "\u2028", "\ufeff",
        "\ud83d\ude00", "\\u0061", "{", "}", "m", "}\u0001\u0000\u0000\u0000",
    ];

    // Spellings of a few numbers: the canonical form keeps each as written.
    private static readonly string[] NumberPool =
    [
        "0", "-0", "0.0", "1", "1.0", "1.00", "1e0", "1E0", "1e+0", "10E-1", "0.1e1", "2", "-2", "2.5", "2.50", "25e-1", "1e2",
        "100", "3000000000", "123456789012345678901234567890", "0.0025", "2.5e-3",
    ];

    private static readonly string[] Literals = ["true", "false", "null"];

    private static readonly Gen<string> Text = Gen.Choose(0, 5).SelectMany(static n => Gen.ArrayOf(Gen.Elements(TextPieces), n)).Select(static pieces => string.Concat(pieces));

    // The probe's own names and their case variants often, so that objects often hold two spellings of one member.
    private static readonly string[] ProbeNames = ["input", "Input", "INPUT", "model", "MODEL", "temperature", "Temperature", "delay_ms", "DELAY_MS"];

    private static readonly Gen<string> Name = Gen.Frequency((4, Gen.Elements(ProbeNames)), (4, Gen.Elements(NamePool)), (1, Text));

    private static readonly Gen<Node> Scalar = Gen.Frequency(
        (3, Text.Select(static s => (Node)new StringNode(s))),
        (3, Gen.Elements(NumberPool).Select(static n => (Node)new NumberNode(n))),
        (1, Gen.Elements(Literals).Select(static l => (Node)new LiteralNode(l))));

    private static readonly Arbitrary<Node> Documents = Gen.Frequency((4, ObjectOf(16)), (1, ValueOf(16))).ToArbitrary();

    private static readonly Arbitrary<int> Seeds = ArbMap.Default.ArbFor<int>();

    private static readonly Arbitrary<int[]> ThreeSeeds = Gen.ArrayOf(ArbMap.Default.GeneratorFor<int>(), 3).ToArbitrary();

    private static int s_equalForms;

    private abstract record Node;

    private sealed record ObjectNode(Member[] Members) : Node;

    private sealed record ArrayNode(Node[] Items) : Node;

    private sealed record StringNode(string Value) : Node;

    private sealed record NumberNode(string Text) : Node;

    private sealed record LiteralNode(string Text) : Node;

    private sealed record Member(string Name, Node Value);

    /// <summary>What the endpoint's typed binding sees: the sample's predict request, with a decimal that keeps the scale of what was sent.</summary>
    private sealed record Probe(
        string? Model,
        string? Input,
        [property: JsonPropertyName("delay_ms")] int? DelayMs,
        decimal? Temperature,
        double? Score,
        ProbeOptions? Options,
        string[]? Tags,
        bool[]? Flags);

    private sealed record ProbeOptions(string? Mode, long? Level, decimal? K);

    private static void Verify(Property property, Config? config = null) => Check.One(config ?? Config, property);

    [Fact]
    public void Respelling_NeverChangesTheForm()
    {
        Verify(Prop.ForAll(Documents, Seeds, Seeds, static (document, first, second) =>
        {
            foreach (var ignoreCase in (bool[])[true, false])
            {
                var (result, form) = Canonical(Render(document, first, shuffle: true), ignoreCase);
                var (otherResult, otherForm) = Canonical(Render(document, second, shuffle: true), ignoreCase);
                if (result != otherResult || form != otherForm)
                {
                    return false;
                }
            }

            return true;
        }));
    }

    [Fact]
    public void Form_IsAbsentExactlyWhenAnObjectRepeatsANameAsTheBindingComparesNames()
    {
        Verify(Prop.ForAll(Documents, Seeds, static (document, seed) =>
        {
            var json = Render(document, seed, shuffle: true);
            var ignoringCase = Canonical(json, ignoreCase: true).Result;
            var ordinal = Canonical(json, ignoreCase: false).Result;
            return ignoringCase != JsonCanonicalResult.NotJson
                && ordinal != JsonCanonicalResult.NotJson
                && (ignoringCase == JsonCanonicalResult.DuplicateMember) == RepeatsAName(document, StringComparer.OrdinalIgnoreCase)
                && (ordinal == JsonCanonicalResult.DuplicateMember) == RepeatsAName(document, StringComparer.Ordinal)
                && (ordinal == JsonCanonicalResult.DuplicateMember) == !ParsesWithoutDuplicates(json);
        }));
    }

    [Fact]
    public void EqualForms_MeanTheBindingReadsEqualValues()
    {
        Volatile.Write(ref s_equalForms, 0);
        Verify(Prop.ForAll(Documents, ThreeSeeds, static (document, seeds) =>
        {
            var other = Mutate(document, seeds[0]);
            var json = Render(document, seeds[1], shuffle: true);
            var otherJson = Render(other, seeds[2], shuffle: true);
            return EqualFormsReadEqually(json, otherJson, ignoreCase: true, Web)
                && EqualFormsReadEqually(json, otherJson, ignoreCase: false, CaseSensitiveWeb);
        }), ContractConfig);

        // The implication is only worth something if equal forms came up often.
        Assert.True(Volatile.Read(ref s_equalForms) > 1000, "equal forms: " + Volatile.Read(ref s_equalForms));
    }

    private static bool EqualFormsReadEqually(string json, string otherJson, bool ignoreCase, JsonSerializerOptions binding)
    {
        var (result, form) = Canonical(json, ignoreCase);
        var (otherResult, otherForm) = Canonical(otherJson, ignoreCase);
        if (result != JsonCanonicalResult.Written || otherResult != JsonCanonicalResult.Written || form != otherForm)
        {
            return true;
        }

        Interlocked.Increment(ref s_equalForms);
        var element = JsonSerializer.Deserialize<JsonElement>(json, binding);
        var otherElement = JsonSerializer.Deserialize<JsonElement>(otherJson, binding);
        return SameValue(element, otherElement) && BindTyped(json, binding) == BindTyped(otherJson, binding);
    }

    /// <summary>The typed binding's reading, written back as JSON, or the kind of error it raised.</summary>
    private static string BindTyped(string json, JsonSerializerOptions binding)
    {
        try
        {
            return JsonSerializer.Serialize(JsonSerializer.Deserialize<Probe>(json, binding), Web);
        }
        catch (JsonException)
        {
            return "<not a probe>";
        }
    }

    /// <summary>Equal as a binder sees values: members by exact (unescaped) name in any order, items in order, numbers as written.</summary>
    private static bool SameValue(JsonElement x, JsonElement y)
    {
        if (x.ValueKind != y.ValueKind)
        {
            return false;
        }

        switch (x.ValueKind)
        {
            case JsonValueKind.Object:
                var count = 0;
                foreach (var member in x.EnumerateObject())
                {
                    count++;
                    if (!TryFind(y, member.Name, out var other) || !SameValue(member.Value, other))
                    {
                        return false;
                    }
                }

                var otherCount = 0;
                foreach (var unused in y.EnumerateObject())
                {
                    otherCount++;
                }

                return count == otherCount;
            case JsonValueKind.Array:
                if (x.GetArrayLength() != y.GetArrayLength())
                {
                    return false;
                }

                for (var i = 0; i < x.GetArrayLength(); i++)
                {
                    if (!SameValue(x[i], y[i]))
                    {
                        return false;
                    }
                }

                return true;
            case JsonValueKind.String:
                return x.GetString() == y.GetString();
            case JsonValueKind.Number:
                return x.GetRawText() == y.GetRawText();
            default:
                return true;
        }
    }

    private static bool TryFind(JsonElement element, string name, out JsonElement value)
    {
        foreach (var member in element.EnumerateObject())
        {
            if (string.Equals(member.Name, name, StringComparison.Ordinal))
            {
                value = member.Value;
                return true;
            }
        }

        value = default;
        return false;
    }

    private static bool ParsesWithoutDuplicates(string json)
    {
        try
        {
            using var document = JsonDocument.Parse(json, new JsonDocumentOptions { AllowDuplicateProperties = false });
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static bool RepeatsAName(Node node, StringComparer comparer)
    {
        switch (node)
        {
            case ObjectNode o:
                var names = new HashSet<string>(comparer);
                foreach (var member in o.Members)
                {
                    if (!names.Add(member.Name) || RepeatsAName(member.Value, comparer))
                    {
                        return true;
                    }
                }

                return false;
            case ArrayNode a:
                foreach (var item in a.Items)
                {
                    if (RepeatsAName(item, comparer))
                    {
                        return true;
                    }
                }

                return false;
            default:
                return false;
        }
    }

    private static (JsonCanonicalResult Result, string Form) Canonical(string json, bool ignoreCase)
    {
        var writer = new PooledByteWriter(64);
        try
        {
            var result = JsonCanonicalizer.TryWrite(Encoding.UTF8.GetBytes(json), writer, NoExclusions, ignoreCase);
            return (result, Convert.ToHexString(writer.WrittenSpan));
        }
        finally
        {
            writer.Dispose();
        }
    }

    private static Gen<Node> ValueOf(int size) => size <= 1
        ? Scalar
        : Gen.Frequency((3, Scalar), (2, ObjectOf(size / 2)), (1, ArrayOf(size / 2)));

    private static Gen<Node> ObjectOf(int size)
    {
        var member = Gen.Zip(Name, ValueOf(size), static (name, value) => new Member(name, value));
        return Gen.Choose(0, 5).SelectMany(n => Gen.ArrayOf(member, n)).Select(static members => (Node)new ObjectNode(members));
    }

    private static Gen<Node> ArrayOf(int size)
    {
        var item = ValueOf(size);
        return Gen.Choose(0, 4).SelectMany(n => Gen.ArrayOf(item, n)).Select(static items => (Node)new ArrayNode(items));
    }

    /// <summary>A document one change away from <paramref name="node"/> (or the same one): a number re-spelled, a name's case changed, a member repeated, removed or moved.</summary>
    private static Node Mutate(Node node, int seed)
    {
        var random = new Random(seed);
        if (random.Next(4) == 0)
        {
            return node;
        }

        var index = 0;
        return Rebuild(node, random, random.Next(CountNodes(node)), ref index);
    }

    private static int CountNodes(Node node) => node switch
    {
        ObjectNode o => 1 + o.Members.Sum(static m => CountNodes(m.Value)),
        ArrayNode a => 1 + a.Items.Sum(CountNodes),
        _ => 1,
    };

    private static Node Rebuild(Node node, Random random, int target, ref int index)
    {
        if (index++ == target)
        {
            return Change(node, random);
        }

        switch (node)
        {
            case ObjectNode o:
                var members = new Member[o.Members.Length];
                for (var i = 0; i < members.Length; i++)
                {
                    members[i] = o.Members[i] with { Value = Rebuild(o.Members[i].Value, random, target, ref index) };
                }

                return new ObjectNode(members);
            case ArrayNode a:
                var items = new Node[a.Items.Length];
                for (var i = 0; i < items.Length; i++)
                {
                    items[i] = Rebuild(a.Items[i], random, target, ref index);
                }

                return new ArrayNode(items);
            default:
                return node;
        }
    }

    private static Node Change(Node node, Random random)
    {
        switch (node)
        {
            case NumberNode:
                return new NumberNode(NumberPool[random.Next(NumberPool.Length)]);
            case StringNode s:
                return random.Next(3) switch
                {
                    0 => new StringNode(s.Value + TextPieces[random.Next(TextPieces.Length)]),
                    1 => new StringNode(s.Value.ToUpperInvariant()),
                    _ => new StringNode(TextPieces[random.Next(TextPieces.Length)]),
                };
            case LiteralNode:
                return new LiteralNode(Literals[random.Next(Literals.Length)]);
            case ArrayNode a:
                return new ArrayNode(random.Next(2) == 0 ? [.. a.Items.Reverse()] : a.Items[..^Math.Min(1, a.Items.Length)]);
            case ObjectNode o when o.Members.Length > 0:
                var members = o.Members.ToList();
                var i = random.Next(members.Count);
                var member = members[i];
                switch (random.Next(6))
                {
                    case 0:
                        members[i] = member with { Name = member.Name.ToUpperInvariant() };
                        break;
                    case 1:
                        members[i] = member with { Name = member.Name.ToLowerInvariant() };
                        break;
                    case 2:
                        members[i] = member with { Name = NamePool[random.Next(NamePool.Length)] };
                        break;
                    case 3:
                        // The same member again (its name as is or in another case) with another value, before or after it.
                        var name = random.Next(3) switch { 0 => member.Name, 1 => member.Name.ToUpperInvariant(), _ => member.Name.ToLowerInvariant() };
                        members.Insert(random.Next(members.Count + 1), new Member(name, Change(member.Value, random)));
                        break;
                    case 4:
                        members.RemoveAt(i);
                        break;
                    default:
                        random.Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(members));
                        break;
                }

                return new ObjectNode([.. members]);
            default:
                return node;
        }
    }

    /// <summary>Writes <paramref name="node"/> as JSON with random whitespace, random escapes and, if asked, members in random order.</summary>
    private static string Render(Node node, int seed, bool shuffle)
    {
        var text = new StringBuilder();
        Render(node, new Random(seed), shuffle, text);
        return text.ToString();
    }

    private static void Render(Node node, Random random, bool shuffle, StringBuilder text)
    {
        Space(random, text);
        switch (node)
        {
            case ObjectNode o:
                var order = Enumerable.Range(0, o.Members.Length).ToArray();
                if (shuffle)
                {
                    random.Shuffle(order);
                }

                text.Append('{');
                for (var i = 0; i < order.Length; i++)
                {
                    if (i > 0)
                    {
                        text.Append(',');
                    }

                    Space(random, text);
                    RenderString(o.Members[order[i]].Name, random, text);
                    Space(random, text);
                    text.Append(':');
                    Render(o.Members[order[i]].Value, random, shuffle, text);
                }

                Space(random, text);
                text.Append('}');
                break;
            case ArrayNode a:
                text.Append('[');
                for (var i = 0; i < a.Items.Length; i++)
                {
                    if (i > 0)
                    {
                        text.Append(',');
                    }

                    Render(a.Items[i], random, shuffle, text);
                }

                Space(random, text);
                text.Append(']');
                break;
            case StringNode s:
                RenderString(s.Value, random, text);
                break;
            case NumberNode n:
                text.Append(n.Text);
                break;
            case LiteralNode l:
                text.Append(l.Text);
                break;
        }

        Space(random, text);
    }

    private static void Space(Random random, StringBuilder text)
    {
        switch (random.Next(6))
        {
            case 0:
                text.Append(' ');
                break;
            case 1:
                text.Append("\n  ");
                break;
            case 2:
                text.Append('\t');
                break;
            case 3:
                text.Append("\r\n");
                break;
        }
    }

    private static void RenderString(string value, Random random, StringBuilder text)
    {
        text.Append('"');
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (char.IsHighSurrogate(c) && i + 1 < value.Length)
            {
                if (random.Next(2) == 0)
                {
                    text.Append(c).Append(value[i + 1]);
                }
                else
                {
                    Hex(c, random, text);
                    Hex(value[i + 1], random, text);
                }

                i++;
                continue;
            }

            var mustEscape = c < 0x20 || c is '"' or '\\';
            switch (mustEscape ? 1 + random.Next(2) : random.Next(4))
            {
                case 0:
                    text.Append(c);
                    break;
                case 1 when ShortEscape(c) is { } escape:
                    text.Append('\\').Append(escape);
                    break;
                default:
                    Hex(c, random, text);
                    break;
            }
        }

        text.Append('"');
    }

    private static char? ShortEscape(char c) => c switch
    {
        '"' => '"',
        '\\' => '\\',
        '/' => '/',
        '\b' => 'b',
        '\f' => 'f',
        '\n' => 'n',
        '\r' => 'r',
        '\t' => 't',
        _ => null,
    };

    private static void Hex(char c, Random random, StringBuilder text)
        => text.Append("\\u").Append(((int)c).ToString(random.Next(2) == 0 ? "x4" : "X4", System.Globalization.CultureInfo.InvariantCulture));
}
