using System.Text;
using AiEdge.Middleware.Caching.Internal;
using AiEdge.Middleware.Internal;

namespace AiEdge.Middleware.Caching.Tests;

/// <summary>The canonical form the prediction cache hashes: equal for equivalent documents, absent for invalid ones.</summary>
public sealed class JsonCanonicalizerTests
{
    private static readonly string[] NoExclusions = [];

    /// <summary>
    /// Two different documents the first canonical encoding wrote as the same bytes: a member name of 125 bytes has
    /// the length prefix 7D 00 00 00, and 7D is also the byte that closed an object.
    /// </summary>
    public static readonly string PrefixAmbiguousLeft = "[{}, \"" + new string('a', 119) + "t}\\u0001\\u0000\\u0000\\u0000t\"]";

    /// <inheritdoc cref="PrefixAmbiguousLeft"/>
    public static readonly string PrefixAmbiguousRight = "[{\"\\u0000s~\\u0000\\u0000\\u0000" + new string('a', 119) + "\": true}, true]";

    [Theory]
    [InlineData("{\"a\":1,\"b\":\"x\"}", "{ \"b\" : \"x\" ,\n \"a\" : 1 }")]
    [InlineData("{\"s\":\"abc\"}", "{\"s\":\"\\u0061bc\"}")]
    [InlineData("{\"\\u0061\":true}", "{\"a\":true}")]
    [InlineData("{\"\\u0063\":1,\"b\":2}", "{\"b\":2,\"c\":1}")]
    [InlineData("{\"o\":{\"y\":[1,{\"q\":null,\"p\":false}],\"x\":2}}", "{\"o\":{\"x\":2,\"y\":[1,{\"p\":false,\"q\":null}]}}")]
    [InlineData("[{\"b\":1,\"a\":2}]", "[ {\"a\":2, \"b\":1} ]")]
    [InlineData("\"text\"", " \"text\" ")]
    [InlineData("{\"e\":\"\\uD83D\\uDE00\\/\\n\"}", "{\"e\":\"😀/\\u000A\"}")]
    public void Equivalent_Documents_HaveTheSameForm(string left, string right)
    {
        Assert.Equal(Canonical(left), Canonical(right));
    }

    [Theory]
    [InlineData("{\"a\":1}", "{\"a\":1.0}")]
    [InlineData("{\"a\":1}", "{\"a\":1e0}")]
    [InlineData("{\"a\":1.0}", "{\"a\":10E-1}")]
    [InlineData("{\"a\":0}", "{\"a\":-0}")]
    [InlineData("{\"a\":\"1\"}", "{\"a\":1}")]
    [InlineData("{\"a\":null}", "{\"a\":\"null\"}")]
    [InlineData("{\"a\":true}", "{\"a\":false}")]
    [InlineData("{\"a\":[1,2]}", "{\"a\":[2,1]}")]
    [InlineData("{\"a\":{\"b\":1}}", "{\"a\":\"{\\\"b\\\":1}\"}")]
    [InlineData("{\"a\":\"x\",\"b\":\"y\"}", "{\"a\":\"xb\",\"\":\"y\"}")]
    [InlineData("{\"input\":\"x\"}", "{\"Input\":\"x\"}")]
    [InlineData("{\"a\":\"\\\\u0062\"}", "{\"a\":\"b\"}")]
    [InlineData("{\"a\":\"x\\u0000\"}", "{\"a\":\"x\"}")]
    [InlineData("{\"a\\u0000\":1}", "{\"a\":1}")]
    [InlineData("[{},{}]", "[{\"\":{}}]")]
    public void Different_Documents_HaveDifferentForms(string left, string right)
    {
        Assert.NotEqual(Canonical(left), Canonical(right));
    }

    [Fact]
    public void PrefixAmbiguousDocuments_HaveDifferentForms()
    {
        Assert.NotEqual(Canonical(PrefixAmbiguousLeft), Canonical(PrefixAmbiguousRight));
    }

    [Theory]
    [InlineData("{\"input\":\"a\",\"Input\":\"b\"}")]
    [InlineData("{\"input\":\"a\",\"INPUT\":\"a\"}")]
    [InlineData("{\"input\":\"a\",\"\\u0069nput\":\"b\"}")]
    [InlineData("{\"input\":\"a\",\"input\":\"a\"}")]
    [InlineData("{\"o\":{\"mode\":1,\"MODE\":2}}")]
    [InlineData("{\"items\":[{\"k\":1},{\"k\":2,\"\\u004B\":3}]}")]
    [InlineData("[{\"a\":1},{\"b\":1,\"B\":2}]")]
    [InlineData("{\"\U00010400\":1,\"\U00010428\":2}")]
    [InlineData("{\"a\":[[[{\"z\":{\"y\":1,\"Y\":2}}]]]}")]
    public void RepeatedMemberNames_HaveNoFormUnderTheWebBinding(string json)
    {
        Assert.Equal(JsonCanonicalResult.DuplicateMember, Write(json, ignoreCase: true));
    }

    [Theory]
    [InlineData("{\"input\":\"a\",\"Input\":\"b\"}", false)]
    [InlineData("{\"input\":\"a\",\"\\u0069nput\":\"b\"}", true)]
    [InlineData("{\"o\":{\"k\":1,\"k\":2}}", true)]
    public void CaseSensitiveBinding_RepeatedNamesAreOrdinal(string json, bool repeated)
    {
        Assert.Equal(repeated ? JsonCanonicalResult.DuplicateMember : JsonCanonicalResult.Written, Write(json, ignoreCase: false));
    }

    [Theory]
    [InlineData("{\"\\u0131nput\":1,\"input\":2}")]
    [InlineData("{\"\\u212A\":1,\"k\":2}")]
    [InlineData("{\"\\u017F\":1,\"s\":2}")]
    [InlineData("{\"a\":{\"b\":1},\"b\":{\"a\":1}}")]
    public void NamesDistinctUnderOrdinalIgnoreCase_AreNotRepeated(string json)
    {
        // System.Text.Json matches names with StringComparer.OrdinalIgnoreCase: simple case mapping, no folding of
        // the dotless i, the Kelvin sign or the long s onto ASCII letters.
        Assert.Equal(JsonCanonicalResult.Written, Write(json, ignoreCase: true));
    }

    [Fact]
    public void RepeatedNames_ThatAreAlsoInvalidLater_AreNotJson()
    {
        Assert.Equal(JsonCanonicalResult.NotJson, Write("{\"a\":1,\"a\":2,\"b\":\"\\ud800\"}", ignoreCase: true));
        Assert.Equal(JsonCanonicalResult.NotJson, Write("{\"a\":1,\"a\":2} x", ignoreCase: true));
    }

    [Fact]
    public void ExcludedMembers_AreLeftOutAtTheTopLevelOnly()
    {
        string[] excluded = ["user"];

        Assert.Equal(Canonical("{\"input\":1}"), Canonical("{\"user\":\"alice\",\"input\":1}", excluded));
        Assert.NotEqual(Canonical("{\"o\":{}}", excluded), Canonical("{\"o\":{\"user\":\"alice\"}}", excluded));
        Assert.NotEqual(Canonical("[{}]", excluded), Canonical("[{\"user\":\"alice\"}]", excluded));
    }

    [Fact]
    public void ExcludedMembers_AreMatchedUnescapedAndAsTheBinderComparesNames()
    {
        string[] excluded = ["user"];

        Assert.Equal(Canonical("{\"input\":1}"), Canonical("{\"\\u0075ser\":\"alice\",\"input\":1}", excluded));
        Assert.Equal(Canonical("{\"input\":1}"), Canonical("{\"USER\":\"alice\",\"input\":1}", excluded));
        Assert.NotEqual(Canonical("{\"input\":1}", excluded, ignoreCase: false), Canonical("{\"USER\":\"alice\",\"input\":1}", excluded, ignoreCase: false));
        Assert.Equal(JsonCanonicalResult.DuplicateMember, Write("{\"user\":\"a\",\"User\":\"b\",\"input\":1}", ignoreCase: true, excluded));
    }

    [Theory]
    [InlineData("{not json")]
    [InlineData("{\"a\":1} trailing")]
    [InlineData("{\"a\":1}{\"b\":2}")]
    [InlineData("{\"a\":1,}")]
    [InlineData("{\"a\":[1,2}")]
    [InlineData("{\"b\":1,\"a\":tru}")]
    [InlineData("   ")]
    [InlineData("{\"input\":\"\\ud800\"}")]
    [InlineData("{\"\\udfff\":1}")]
    [InlineData("[\"\\udfff\"]")]
    [InlineData("{\"a\":[\"\\ud800x\"]}")]
    public void InvalidDocuments_WriteNothing(string json)
    {
        AssertNotJson(Encoding.UTF8.GetBytes(json));
    }

    [Theory]
    [InlineData(new byte[] { 0x7B, 0x22, 0x61, 0x22, 0x3A, 0x22, 0xC3, 0x22, 0x7D })] // {"a":"<C3>"}: truncated sequence
    [InlineData(new byte[] { 0x7B, 0x22, 0xC3, 0x22, 0x3A, 0x31, 0x7D })] // {"<C3>":1}
    [InlineData(new byte[] { 0x5B, 0x22, 0xED, 0xA0, 0x80, 0x22, 0x5D })] // ["<ED A0 80>"]: an encoded surrogate
    [InlineData(new byte[] { 0x7B, 0x22, 0x61, 0x22, 0x3A, 0x22, 0xC0, 0xAF, 0x22, 0x7D })] // {"a":"<C0 AF>"}: overlong '/'
    [InlineData(new byte[] { 0x7B, 0x22, 0x61, 0x22, 0x3A, 0x22, 0x5C, 0x6E, 0xFF, 0x22, 0x7D })] // {"a":"\n<FF>"}
    public void InvalidUtf8_IsNotJson(byte[] json)
    {
        AssertNotJson(json);
    }

    [Fact]
    public void DeeplyNestedDocuments_BeyondTheDepthLimit_AreNotJson()
    {
        AssertNotJson(Encoding.UTF8.GetBytes(new string('[', 100) + new string(']', 100)));
    }

    [Fact]
    public void LargeObjects_SortAndFindRepeatsAcrossTheWholeObject()
    {
        var members = new StringBuilder("{");
        for (var i = 0; i < 300; i++)
        {
            members.Append("\"name").Append(i).Append("\":").Append(i).Append(',');
        }

        var unique = members.ToString() + "\"" + new string('x', 2000) + "\":0}";
        var repeated = members.ToString() + "\"NAME17\":0}";

        Assert.Equal(JsonCanonicalResult.Written, Write(unique, ignoreCase: true));
        Assert.Equal(JsonCanonicalResult.DuplicateMember, Write(repeated, ignoreCase: true));
        Assert.Equal(JsonCanonicalResult.Written, Write(repeated, ignoreCase: false));
    }

    private static JsonCanonicalResult Write(string json, bool ignoreCase, string[]? excluded = null)
    {
        var writer = new PooledByteWriter(64);
        try
        {
            writer.Write((byte)'k');
            var result = JsonCanonicalizer.TryWrite(Encoding.UTF8.GetBytes(json), writer, excluded ?? NoExclusions, ignoreCase);
            if (result != JsonCanonicalResult.Written)
            {
                Assert.Equal("k"u8.ToArray(), writer.WrittenSpan.ToArray());
            }

            return result;
        }
        finally
        {
            writer.Dispose();
        }
    }

    private static void AssertNotJson(byte[] json)
    {
        foreach (var ignoreCase in (bool[])[true, false])
        {
            var writer = new PooledByteWriter(64);
            writer.Write((byte)'k');

            var result = JsonCanonicalizer.TryWrite(json, writer, NoExclusions, ignoreCase);

            Assert.Equal(JsonCanonicalResult.NotJson, result);
            Assert.Equal("k"u8.ToArray(), writer.WrittenSpan.ToArray());
            writer.Dispose();
        }
    }

    private static string Canonical(string json, string[]? excluded = null, bool ignoreCase = true)
    {
        var writer = new PooledByteWriter(64);
        try
        {
            Assert.Equal(JsonCanonicalResult.Written, JsonCanonicalizer.TryWrite(Encoding.UTF8.GetBytes(json), writer, excluded ?? NoExclusions, ignoreCase));
            return Convert.ToHexString(writer.WrittenSpan);
        }
        finally
        {
            writer.Dispose();
        }
    }
}
