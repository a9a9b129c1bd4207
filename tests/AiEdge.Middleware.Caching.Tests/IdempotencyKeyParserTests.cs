using AiEdge.Middleware.Caching.Internal;
using AiEdge.Middleware.Internal;

namespace AiEdge.Middleware.Caching.Tests;

public sealed class IdempotencyKeyParserTests
{
    [Theory]
    [InlineData("\"abc\"", "abc")]
    [InlineData("  \"8e03978e-40d5-43e8-bc93-6894a57f9324\" ", "8e03978e-40d5-43e8-bc93-6894a57f9324")]
    [InlineData("\"a\\\"b\"", "a\"b")]
    [InlineData("\"a\\\\b\"", "a\\b")]
    [InlineData("\" spaced key \"", " spaced key ")]
    public void TryParse_SfString_GivesTheKey(string field, string expected)
    {
        var buffer = new char[64];

        Assert.True(IdempotencyKeyParser.TryParse(field, 64, buffer, out var length));
        Assert.Equal(expected, new string(buffer, 0, length));
    }

    [Theory]
    [InlineData("")]
    [InlineData("abc")]
    [InlineData("\"\"")]
    [InlineData("\"abc")]
    [InlineData("\"a\\nb\"")]
    [InlineData("\"a\"b\"")]
    [InlineData("\"a\", \"b\"")]
    [InlineData("\"tab\there\"")]
    [InlineData("\"ünï\"")]
    public void TryParse_NotOneSfString_Fails(string field)
        => Assert.False(IdempotencyKeyParser.TryParse(field, 64, new char[64], out _));

    [Fact]
    public void TryParse_Property_AnyPrintableAsciiKeyRoundTripsThroughSerialization()
    {
        RandomRuns.ForAll(seed: 7, runs: 500, random =>
        {
            var length = random.Next(1, 40);
            var chars = new char[length];
            for (var i = 0; i < length; i++)
            {
                chars[i] = (char)random.Next(0x20, 0x7F);
            }

            var key = new string(chars);
            var field = "\"" + key.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";
            var buffer = new char[64];
            Assert.True(IdempotencyKeyParser.TryParse(field, 64, buffer, out var parsed));
            Assert.Equal(key, new string(buffer, 0, parsed));
        });
    }

    private static class RandomRuns
    {
        public static void ForAll(int seed, int runs, Action<Random> property)
        {
            var random = new Random(seed);
            for (var i = 0; i < runs; i++)
            {
                property(random);
            }
        }
    }
}
