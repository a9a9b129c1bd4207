using System.Text;
using AiEdge.Middleware.RateLimiting;
using AiEdge.Middleware.ReverseProxy.Internal;

namespace AiEdge.Middleware.ReverseProxy.Tests;

/// <summary>The request rewrite and the event-by-event meter, on their own.</summary>
public sealed class UsageRequestTests
{
    [Theory]
    [InlineData("{\"stream\":true}", "NotAsked")]
    [InlineData("{\"stream\":false}", "NotStreamed")]
    [InlineData("{\"prompt\":\"x\"}", "NotStreamed")]
    [InlineData("{\"stream\":true,\"stream_options\":{\"include_usage\":true}}", "ClientAsked")]
    [InlineData("{\"stream_options\":{\"x\":{\"include_usage\":true},\"include_usage\":false},\"stream\":true}", "NotAsked")]
    [InlineData("{\"stream\":true,\"stream_options\":null}", "NotAsked")]
    [InlineData("{\"stream\":true", "NotStreamed")]
    [InlineData("{\"stream\":true} {}", "NotStreamed")]
    [InlineData("[{\"stream\":true}]", "NotStreamed")]
    [InlineData("stream=true", "NotStreamed")]
    public void Classify_reads_stream_and_include_usage(string body, string expected)
        => Assert.Equal(expected, UsageRequest.Classify(Encoding.UTF8.GetBytes(body)).ToString());

    [Theory]
    [InlineData("{\"model\":\"m\", \"stream\": true, \"messages\": [{\"content\": \"a\\u00e9\"}]}",
        "{\"model\":\"m\",\"stream\":true,\"messages\":[{\"content\": \"a\\u00e9\"}],\"stream_options\":{\"include_usage\":true}}")]
    [InlineData("{\"stream\":true,\"stream_options\":{\"continuous_usage_stats\":false,\"include_usage\":false}}",
        "{\"stream\":true,\"stream_options\":{\"continuous_usage_stats\":false,\"include_usage\":true}}")]
    [InlineData("{\"stream\":true,\"stream_options\":null,\"n\":1}",
        "{\"stream\":true,\"stream_options\":{\"include_usage\":true},\"n\":1}")]
    public void Rewrite_adds_include_usage_and_keeps_every_other_value_as_written(string body, string expected)
    {
        using var output = new MemoryStream();
        UsageRequest.WriteWithUsage(Encoding.UTF8.GetBytes(body), output);

        Assert.Equal(expected, Encoding.UTF8.GetString(output.ToArray()));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(1000)]
    public async Task Meter_relays_each_event_whole_and_removes_the_added_usage_chunk(int writeSize)
    {
        const string stream = "data: {\"choices\":[{\"delta\":{\"content\":\"Hé\\n\"}}],\"usage\":null}\r\n\r\n"
            + ": comment\n\n"
            + "data: {\"choices\":[{\"text\":\"llo\"}]}\n\n"
            + "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":2}}\n\n"
            + "data: [DONE]\n\n";
        var usage = new RecordingUsage();
        using var meter = new UsageMeter(usage, injected: true);
        var relayed = new List<string>();
        var bytes = Encoding.UTF8.GetBytes(stream);

        for (var i = 0; i < bytes.Length; i += writeSize)
        {
            await meter.WriteAsync(bytes.AsMemory(i, Math.Min(writeSize, bytes.Length - i)), (chunk, _) =>
            {
                relayed.Add(Encoding.UTF8.GetString(chunk.Span));
                return ValueTask.CompletedTask;
            }, CancellationToken.None);
        }

        Assert.Equal(stream.Replace("data: {\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":2}}\n\n", "", StringComparison.Ordinal), string.Concat(relayed));
        Assert.Equal(4, relayed.Count);
        Assert.All(relayed, static piece => Assert.True(piece.EndsWith("\n\n", StringComparison.Ordinal) || piece.EndsWith("\r\n\r", StringComparison.Ordinal) || piece.EndsWith("\r\n\r\n", StringComparison.Ordinal), piece));
        Assert.Equal(6, usage.Characters);   // "Hé\n" and "llo"
        Assert.Equal(5, usage.Tokens);
        Assert.Equal(1, meter.Removed);
    }

    [Fact]
    public async Task Meter_keeps_the_usage_chunk_the_client_asked_for()
    {
        var usage = new RecordingUsage();
        using var meter = new UsageMeter(usage, injected: false);
        var relayed = 0;

        await meter.WriteAsync(Encoding.UTF8.GetBytes("data: {\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":2}}\n\n"), (_, _) =>
        {
            relayed++;
            return ValueTask.CompletedTask;
        }, CancellationToken.None);

        Assert.Equal(1, relayed);
        Assert.Equal(5, usage.Tokens);
    }

    private sealed class RecordingUsage : ITokenUsageFeature
    {
        public long Tokens { get; private set; } = -1;

        public long Characters { get; private set; }

        public void ReportUsage(long promptTokens, long completionTokens) => Tokens = promptTokens + completionTokens;

        public void ReportCompletionCharacters(long characters) => Characters += characters;
    }
}
