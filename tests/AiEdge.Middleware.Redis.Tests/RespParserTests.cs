using System.Buffers;
using System.Text;
using AiEdge.Middleware.Redis.Internal;
using FsCheck;
using FsCheck.Fluent;

namespace AiEdge.Middleware.Redis.Tests;

public sealed class RespParserTests
{
    private static readonly Gen<byte[]> Bytes = Gen.Sized(size => Gen.Choose(0, Math.Max(0, size * 4))
        .SelectMany(length => Gen.ArrayOf(Gen.Choose(0, 255).Select(static b => (byte)b), length)));

    // Simple strings and errors cannot hold CR or LF.
    private static readonly Gen<byte[]> Line = Gen.Sized(size => Gen.Choose(0, Math.Max(0, size))
        .SelectMany(length => Gen.ArrayOf(Gen.Choose(32, 126).Select(static b => (byte)b), length)));

    private static readonly Gen<RedisValue> Leaf = Gen.OneOf(
        Gen.Constant(RedisValue.Null),
        ArbMap.Default.GeneratorFor<long>().Select(RedisValue.FromInteger),
        Bytes.Select(RedisValue.Bulk),
        Line.Select(static b => RedisValue.SimpleString((ReadOnlySpan<byte>)b)),
        Line.Select(static b => RedisValue.Error(b)));

    private static readonly Gen<RedisValue> Value = Tree(3);

    private static Gen<RedisValue> Tree(int depth) => depth == 0
        ? Leaf
        : Gen.Frequency(
            (3, Leaf),
            (1, Gen.Choose(0, 6).SelectMany(n => Gen.ArrayOf(Tree(depth - 1), n)).Select(RedisValue.Array)));

    private static readonly Gen<(RedisValue[] Replies, int[] Cuts)> RepliesAndCuts =
        Gen.Choose(1, 5).SelectMany(n => Gen.ArrayOf(Value, n))
            .SelectMany(replies =>
            {
                var length = replies.Sum(r => RespTestEncoding.Encode(r).Length);
                return Gen.Choose(0, 12).SelectMany(k => Gen.ArrayOf(Gen.Choose(0, length), k)).Select(cuts => (replies, cuts));
            });

    [Fact]
    public void TryRead_AnyRepliesFragmentedAnywhere_ReadsTheSameReplies()
    {
        Prop.ForAll(Arb.From(RepliesAndCuts), input =>
        {
            var data = input.Replies.SelectMany(RespTestEncoding.Encode).ToArray();
            var parsed = RespTestEncoding.ParseIncrementally(data, input.Cuts);
            return parsed.SequenceEqual(input.Replies);
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void TryRead_AnyPrefixOfAReply_ReportsIncompleteAndConsumesNothing()
    {
        var gen = Value.SelectMany(value =>
        {
            var data = RespTestEncoding.Encode(value);
            return Gen.Choose(0, data.Length - 1).Select(prefix => (data, prefix));
        });
        Prop.ForAll(Arb.From(gen), input =>
        {
            var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(input.data, 0, input.prefix));
            return !RespParser.TryRead(ref reader, out _);
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void TryRead_EveryByteInItsOwnSegment_ReadsNestedArrays()
    {
        var value = RedisValue.Array([
            RedisValue.FromInteger(-42),
            RedisValue.Array([RedisValue.Bulk("hello\r\nworld"u8.ToArray()), RedisValue.Null, RedisValue.Array([])]),
            RedisValue.Error("ERR wrong"u8.ToArray()),
            RedisValue.SimpleString("OK"u8),
        ]);
        var data = RespTestEncoding.Encode(value);

        var sequence = RespTestEncoding.Segmented(data, Enumerable.Range(1, data.Length));
        var reader = new SequenceReader<byte>(sequence);

        Assert.True(RespParser.TryRead(ref reader, out var parsed));
        Assert.Equal(value, parsed);
        Assert.Equal(data.Length, reader.Consumed);
    }

    [Fact]
    public void TryRead_LargeBulkStringInSmallFragments_ReadsItWhole()
    {
        var payload = new byte[3 * 1024 * 1024 + 7];
        new Random(7).NextBytes(payload);
        var data = RespTestEncoding.Encode(RedisValue.Bulk(payload));
        var cuts = Enumerable.Range(1, data.Length / 8192).Select(i => i * 8192 - (i % 13));

        var parsed = RespTestEncoding.ParseIncrementally(data, cuts);

        var reply = Assert.Single(parsed);
        Assert.Equal(RespType.BulkString, reply.Type);
        Assert.True(reply.Bytes.AsSpan().SequenceEqual(payload));
    }

    [Theory]
    [InlineData("-ERR unknown command 'FOO'\r\n", "ERR unknown command 'FOO'")]
    [InlineData("-NOSCRIPT No matching script.\r\n", "NOSCRIPT No matching script.")]
    [InlineData("-WRONGTYPE Operation against a key holding the wrong kind of value\r\n", "WRONGTYPE Operation against a key holding the wrong kind of value")]
    public void TryRead_ErrorReply_IsAnErrorValueWithItsMessage(string wire, string message)
    {
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(Encoding.ASCII.GetBytes(wire)));

        Assert.True(RespParser.TryRead(ref reader, out var value));
        Assert.True(value.IsError);
        Assert.Equal(message, value.ToString());
    }

    [Theory]
    [InlineData("$-1\r\n", (int)RespType.Null)]
    [InlineData("*-1\r\n", (int)RespType.Null)]
    [InlineData("$0\r\n\r\n", (int)RespType.BulkString)]
    [InlineData("*0\r\n", (int)RespType.Array)]
    [InlineData(":-9223372036854775808\r\n", (int)RespType.Integer)]
    public void TryRead_EdgeValues_AreRead(string wire, int type)
    {
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(Encoding.ASCII.GetBytes(wire)));

        Assert.True(RespParser.TryRead(ref reader, out var value));
        Assert.Equal((RespType)type, value.Type);
        Assert.Equal(wire.Length, reader.Consumed);
    }

    [Theory]
    [InlineData("?what\r\n")]
    [InlineData("$-2\r\n")]
    [InlineData("$3\r\nfooXY")]
    [InlineData(":12a\r\n")]
    [InlineData("*-5\r\n")]
    [InlineData("$999999999999\r\n")]
    public void TryRead_MalformedInput_Throws(string wire)
    {
        Assert.Throws<InvalidDataException>(() =>
        {
            var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(Encoding.ASCII.GetBytes(wire)));
            RespParser.TryRead(ref reader, out _);
        });
    }

    [Fact]
    public void TryRead_ArraysNestedTooDeeply_Throws()
    {
        var wire = string.Concat(Enumerable.Repeat("*1\r\n", RespParser.MaxDepth + 1)) + ":1\r\n";
        Assert.Throws<InvalidDataException>(() =>
        {
            var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(Encoding.ASCII.GetBytes(wire)));
            RespParser.TryRead(ref reader, out _);
        });
    }

    [Fact]
    public void WriteCommand_AnyArguments_IsAnArrayOfBulkStrings()
    {
        var gen = Gen.ArrayOf(Bytes).Zip(ArbMap.Default.GeneratorFor<long>());
        Prop.ForAll(Arb.From(gen), input =>
        {
            var writer = new ArrayBufferWriter<byte>();
            var args = input.Item1.Select(static b => (RedisArg)b).Append(input.Item2).Append("héllo").ToArray();
            RespWriter.WriteCommand(writer, "SET", args);

            var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(writer.WrittenMemory));
            Assert.True(RespParser.TryRead(ref reader, out var parsed));
            var items = parsed.Items!;
            return items.Length == args.Length + 1
                && items.All(static i => i.Type == RespType.BulkString)
                && items[0].ToString() == "SET"
                && input.Item1.Select((b, i) => items[i + 1].Bytes.AsSpan().SequenceEqual(b)).All(static ok => ok)
                && items[^2].ToString() == input.Item2.ToString(System.Globalization.CultureInfo.InvariantCulture)
                && items[^1].ToString() == "héllo"
                && reader.Consumed == writer.WrittenCount;
        }).QuickCheckThrowOnFailure();
    }
}
