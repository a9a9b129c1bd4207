using System.Net;
using System.Net.Http.Json;
using AiEdge.Middleware.Testing;

namespace AiEdge.Samples.ModelApi.Tests;

/// <summary>The chat route's concurrency tier <c>generate</c>, overridden through its configuration keys.</summary>
public sealed class ConcurrencyAcceptanceTests
{
    [Fact]
    public async Task ChatCompletions_OverTheGenerateLimit_503WithRetryAfter_UntilTheStreamHoldingTheSlotEnds()
    {
        await using var factory = new ModelApiFactory(new Dictionary<string, string?>
        {
            ["Sample:TokenDelayMs"] = "100",
            ["AiEdge:Concurrency:Tiers:generate:Limit"] = "1",
            ["AiEdge:Concurrency:Tiers:generate:QueueLimit"] = "0",
        });
        using var client = factory.CreateClient();

        using var stream = await client.SendAsync(Chat(stream: true), HttpCompletionOption.ResponseHeadersRead).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(HttpStatusCode.OK, stream.StatusCode);
        var reader = new StreamReader(await stream.Content.ReadAsStreamAsync());
        Assert.StartsWith("data: ", await reader.ReadLineAsync(), StringComparison.Ordinal);

        using (var refused = await client.SendAsync(Chat(stream: false)).WaitAsync(TimeSpan.FromSeconds(30)))
        {
            var problem = await ProblemAssert.IsProblemAsync(refused, HttpStatusCode.ServiceUnavailable);
            Assert.Equal("generate", problem.GetProperty("concurrency-tier").GetString());
            Assert.True(refused.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1));
        }

        // The client goes away mid-stream: the slot comes back, and the next completion is served.
        stream.Dispose();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            using var next = await client.SendAsync(Chat(stream: false)).WaitAsync(TimeSpan.FromSeconds(30));
            if (next.StatusCode == HttpStatusCode.OK)
            {
                break;
            }

            Assert.Equal(HttpStatusCode.ServiceUnavailable, next.StatusCode);
            Assert.True(DateTime.UtcNow < deadline, "The slot of the abandoned stream never came back.");
            await Task.Delay(10);
        }
    }

    private static HttpRequestMessage Chat(bool stream) => new(HttpMethod.Post, "/v1/chat/completions")
    {
        Content = JsonContent.Create(new { model = "toy", stream, max_tokens = stream ? 100 : 2, messages = new[] { new { role = "user", content = "hello there" } } }),
    };
}
