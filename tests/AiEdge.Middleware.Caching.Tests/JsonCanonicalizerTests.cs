using System.Text;
using AiEdge.Middleware.Internal;

namespace AiEdge.Middleware.Caching.Tests;

/// <summary>The canonical form the prediction cache hashes: equal for equivalent documents, absent for invalid ones.</summary>
public sealed class JsonCanonicalizerTests
{
    private static readonly byte[][] NoExclusions = [];

    [Theory]
    [InlineData("{\"a\":1,\"b\":\"x\"}", "{ \"b\" : \"x\" ,\n \"a\" : 1 }")]
    [InlineData("{\"s\":\"abc\"}", "{\"s\":\"\\u0061bc\"}")]
    [InlineData("{\"\\u0061\":true}", "{\"a\":true}")]
    [InlineData("{\"o\":{\"y\":[1,{\"q\":null,\"p\":false}],\"x\":2}}", "{\"o\":{\"x\":2,\"y\":[1,{\"p\":false,\"q\":null}]}}")]
    [InlineData("[{\"b\":1,\"a\":2}]", "[ {\"a\":2, \"b\":1} ]")]
    [InlineData("\"text\"", " \"text\" ")]
    public void Equivalent_Documents_HaveTheSameForm(string left, string right)
    {
        Assert.Equal(Canonical(left), Canonical(right));
    }

    [Theory]
    [InlineData("{\"a\":1}", "{\"a\":1.0}")]
    [InlineData("{\"a\":\"1\"}", "{\"a\":1}")]
    [InlineData("{\"a\":null}", "{\"a\":\"null\"}")]
    [InlineData("{\"a\":true}", "{\"a\":false}")]
    [InlineData("{\"a\":[1,2]}", "{\"a\":[2,1]}")]
    [InlineData("{\"a\":{\"b\":1}}", "{\"a\":\"{\\\"b\\\":1}\"}")]
    [InlineData("{\"a\":\"x\",\"b\":\"y\"}", "{\"a\":\"xb\",\"\":\"y\"}")]
    public void Different_Documents_HaveDifferentForms(string left, string right)
    {
        Assert.NotEqual(Canonical(left), Canonical(right));
    }

    [Fact]
    public void ExcludedMembers_AreLeftOutAtTheTopLevelOnly()
    {
        byte[][] excluded = [Encoding.UTF8.GetBytes("user")];

        Assert.Equal(Canonical("{\"input\":1}"), Canonical("{\"user\":\"alice\",\"input\":1}", excluded));
        Assert.NotEqual(Canonical("{\"o\":{}}", excluded), Canonical("{\"o\":{\"user\":\"alice\"}}", excluded));
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
    public void InvalidDocuments_WriteNothing(string json)
    {
        var writer = new PooledByteWriter(64);
        writer.Write((byte)'k');

        var written = JsonCanonicalizer.TryWrite(Encoding.UTF8.GetBytes(json), writer, NoExclusions);

        Assert.False(written);
        Assert.Equal("k"u8.ToArray(), writer.WrittenSpan.ToArray());
        writer.Dispose();
    }

    [Fact]
    public void DeeplyNestedDocuments_BeyondTheDepthLimit_AreNotJson()
    {
        var json = new string('[', 100) + new string(']', 100);

        var writer = new PooledByteWriter(64);
        Assert.False(JsonCanonicalizer.TryWrite(Encoding.UTF8.GetBytes(json), writer, NoExclusions));
        Assert.Equal(0, writer.Length);
        writer.Dispose();
    }

    private static string Canonical(string json, byte[][]? excluded = null)
    {
        var writer = new PooledByteWriter(64);
        try
        {
            Assert.True(JsonCanonicalizer.TryWrite(Encoding.UTF8.GetBytes(json), writer, excluded ?? NoExclusions), "valid JSON: " + json);
            return Convert.ToHexString(writer.WrittenSpan);
        }
        finally
        {
            writer.Dispose();
        }
    }
}
