using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.ServerSentEvents;
using System.Reflection;
using System.Text;
using System.Text.Json;

namespace AiEdge.Samples.ModelApi.Tests;

/// <summary>
/// The streamed <c>POST /v1/chat/completions</c> of the sample over Kestrel, as SAMPLE-CONTRACT.md describes it:
/// <c>chat.completion.chunk</c> events flushed as produced, a final chunk with <c>usage</c>, then <c>data: [DONE]</c>,
/// never compressed or buffered; consumed by an incremental .NET parser, the official OpenAI SDK and a fetch reader.
/// </summary>
public sealed class StreamingAcceptanceTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task StreamedChat_ParsedIncrementally_ChunksUsageThenDone()
    {
        const int MaxTokens = 5;
        await using var factory = new ModelApiFactory(new Dictionary<string, string?> { ["Sample:TokenDelayMs"] = "100" });
        var baseAddress = factory.StartKestrel();
        using var client = new HttpClient { BaseAddress = baseAddress };
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = new StringContent(
                JsonSerializer.Serialize(new { model = "toy-chat", stream = true, max_tokens = MaxTokens, messages = new[] { new { role = "user", content = "Say hello" } } }),
                Encoding.UTF8,
                "application/json"),
        };
        request.Headers.AcceptEncoding.Add(new StringWithQualityHeaderValue("gzip"));
        request.Headers.AcceptEncoding.Add(new StringWithQualityHeaderValue("br"));

        var clock = Stopwatch.StartNew();
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead).WaitAsync(Timeout);
        var events = new List<(string Data, TimeSpan At)>();
        var parser = SseParser.Create(await response.Content.ReadAsStreamAsync(), static (_, data) => Encoding.UTF8.GetString(data));
        using var cancel = new CancellationTokenSource(Timeout);
        await foreach (var item in parser.EnumerateAsync(cancel.Token))
        {
            events.Add((item.Data, clock.Elapsed));
        }

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        Assert.Empty(response.Content.Headers.ContentEncoding);
        Assert.True(response.Headers.CacheControl is { NoCache: true, NoTransform: true }, response.Headers.CacheControl?.ToString());
        Assert.Equal(["no"], response.Headers.GetValues("X-Accel-Buffering"));

        // role chunk, one chunk per token, the finish chunk, the usage chunk, [DONE]
        Assert.Equal(MaxTokens + 4, events.Count);
        Assert.Equal("[DONE]", events[^1].Data);
        var id = (string?)null;
        var content = new StringBuilder();
        for (var i = 0; i < events.Count - 1; i++)
        {
            using var chunk = JsonDocument.Parse(events[i].Data);
            var root = chunk.RootElement;
            Assert.Equal("chat.completion.chunk", root.GetProperty("object").GetString());
            id ??= root.GetProperty("id").GetString();
            Assert.Equal(id, root.GetProperty("id").GetString());
            var choices = root.GetProperty("choices");
            if (i == events.Count - 2)
            {
                Assert.Equal(0, choices.GetArrayLength());
                var usage = root.GetProperty("usage");
                Assert.Equal(MaxTokens, usage.GetProperty("completion_tokens").GetInt32());
                Assert.Equal(usage.GetProperty("prompt_tokens").GetInt32() + MaxTokens, usage.GetProperty("total_tokens").GetInt32());
                continue;
            }

            var delta = choices[0].GetProperty("delta");
            if (i == 0)
            {
                Assert.Equal("assistant", delta.GetProperty("role").GetString());
            }

            if (delta.TryGetProperty("content", out var token))
            {
                content.Append(token.GetString());
            }
        }

        Assert.NotEqual(string.Empty, content.ToString());

        // Produced one token per 100 ms: had anything buffered the stream, every event would arrive at once.
        Assert.True(events[^1].At - events[0].At >= TimeSpan.FromMilliseconds(300), $"first event at {events[0].At}, last at {events[^1].At}");
    }

    [Fact]
    public async Task StreamedChat_OfficialOpenAiSdkAndFetchReader_ConsumeIt()
    {
        var directory = typeof(StreamingAcceptanceTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .Single(static attribute => attribute.Key == "OpenAiClientDirectory").Value!;
        Assert.True(
            Directory.Exists(Path.Combine(directory, "node_modules", "openai")),
            $"The OpenAI SDK is not installed: run `npm ci` in {directory} (./test.sh does it when node is available).");

        await using var factory = new ModelApiFactory(new Dictionary<string, string?> { ["Sample:TokenDelayMs"] = "50" });
        var baseAddress = factory.StartKestrel();

        var start = new ProcessStartInfo("node", ["stream.mjs", baseAddress.ToString(), "aiedge-sample-pro-key"])
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var node = Process.Start(start) ?? throw new InvalidOperationException("node could not be started.");
        var output = node.StandardOutput.ReadToEndAsync();
        var errors = node.StandardError.ReadToEndAsync();
        try
        {
            await node.WaitForExitAsync().WaitAsync(Timeout);
        }
        finally
        {
            if (!node.HasExited)
            {
                node.Kill(entireProcessTree: true);
            }
        }

        Assert.True(node.ExitCode == 0, $"node exited with {node.ExitCode}: {await errors}");
        using var result = JsonDocument.Parse(await output);
        var sdk = result.RootElement.GetProperty("sdk");
        Assert.Equal(5 + 3, sdk.GetProperty("chunks").GetInt32());   // role, 5 tokens, finish, usage
        Assert.Equal("assistant", sdk.GetProperty("role").GetString());
        Assert.Equal("length", sdk.GetProperty("finishReason").GetString());
        Assert.NotEqual(string.Empty, sdk.GetProperty("content").GetString());
        Assert.Equal(5, sdk.GetProperty("usage").GetProperty("completion_tokens").GetInt32());

        var fetch = result.RootElement.GetProperty("fetch");
        Assert.Equal(200, fetch.GetProperty("status").GetInt32());
        Assert.StartsWith("text/event-stream", fetch.GetProperty("contentType").GetString());
        Assert.Equal(JsonValueKind.Null, fetch.GetProperty("contentEncoding").ValueKind);
        Assert.Equal("data: [DONE]", fetch.GetProperty("last").GetString());
        Assert.Equal(5 + 4, fetch.GetProperty("events").GetInt32());

        // The reader got the stream in several pieces, as produced (5 tokens 50 ms apart), not in one buffered piece.
        Assert.True(fetch.GetProperty("reads").GetInt32() >= 3, $"reads: {fetch.GetProperty("reads").GetInt32()}");
    }
}
