using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using AiEdge.Middleware.Testing;

namespace AiEdge.Samples.ModelApi.Tests;

public sealed class ResilienceAcceptanceTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    private static object Chat(bool stream = false) => new { model = "m", stream, messages = new[] { new { role = "user", content = "hi" } } };

    [Fact]
    public async Task ChatCompletions_WithBaseUrl_AreForwardedToTheBackend()
    {
        await using var backend = await FakeModelBackend.StartAsync();
        await using var factory = new ModelApiFactory(new Dictionary<string, string?> { ["ModelBackend:BaseUrl"] = backend.BaseAddress + "v1" });
        using var client = factory.CreateClient();

        using var response = await client.PostAsJsonAsync("/v1/chat/completions", Chat()).WaitAsync(Wait);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("chatcmpl-fake", body.GetProperty("id").GetString());
        Assert.Equal(2, body.GetProperty("usage").GetProperty("total_tokens").GetInt32());
        Assert.Equal("/v1/chat/completions", await backend.Arrivals.Reader.ReadAsync().AsTask().WaitAsync(Wait));
    }

    [Fact]
    public async Task ChatCompletions_Streamed_ArePassedThroughAsTheyArrive()
    {
        await using var backend = await FakeModelBackend.StartAsync();
        await using var factory = new ModelApiFactory(new Dictionary<string, string?> { ["ModelBackend:BaseUrl"] = backend.BaseAddress + "v1" });
        var baseAddress = factory.StartKestrel();
        using var client = new HttpClient { BaseAddress = baseAddress };
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = JsonContent.Create(Chat(stream: true)) };

        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead).WaitAsync(Wait);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        await using var stream = await response.Content.ReadAsStreamAsync();
        var first = await ReadUntilAsync(stream, "\n\n").WaitAsync(Wait);

        // The backend holds every further event until the gate opens: the first reached the client alone.
        Assert.Contains("\"t0\"", first);
        Assert.DoesNotContain("\"t1\"", first);
        backend.StreamGate.Release(10);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var rest = await reader.ReadToEndAsync().WaitAsync(Wait);
        Assert.Contains("\"usage\"", rest);
        Assert.EndsWith("data: [DONE]\n\n", rest);
    }

    [Fact]
    public async Task ChatCompletions_FailingBackend_Answer502_ThenFast503WithRetryAfter()
    {
        await using var backend = await FakeModelBackend.StartAsync();
        backend.Mode = FakeBackendMode.Error;
        await using var factory = new ModelApiFactory(new Dictionary<string, string?>
        {
            ["ModelBackend:BaseUrl"] = backend.BaseAddress + "v1",
            ["AiEdge:Resilience:Breakers:model:MinimumThroughput"] = "2",
            ["AiEdge:Resilience:Breakers:model:BreakDuration"] = "00:01:00",
        });
        using var client = factory.CreateClient();

        for (var i = 0; i < 2; i++)
        {
            using var failed = await client.PostAsJsonAsync("/v1/chat/completions", Chat()).WaitAsync(Wait);
            await ProblemAssert.IsProblemAsync(failed, HttpStatusCode.BadGateway);
        }

        using var refused = await client.PostAsJsonAsync("/v1/chat/completions", Chat()).WaitAsync(Wait);

        await ProblemAssert.IsProblemAsync(refused, HttpStatusCode.ServiceUnavailable);
        Assert.InRange(refused.Headers.RetryAfter!.Delta!.Value.TotalSeconds, 1, 60);
        Assert.Equal(2, backend.Calls);
    }

    [Fact]
    public async Task BaseUrlList_FormsAPool_ReportedReplicaByReplica()
    {
        await using var a = await FakeModelBackend.StartAsync();
        await using var b = await FakeModelBackend.StartAsync();
        await using var factory = new ModelApiFactory(new Dictionary<string, string?> { ["ModelBackend:BaseUrl"] = a.BaseAddress + "v1," + b.BaseAddress + "v1" });
        using var client = factory.CreateClient();

        using var chat = await client.PostAsJsonAsync("/v1/chat/completions", Chat()).WaitAsync(Wait);
        var ready = await client.GetFromJsonAsync<JsonElement>("/readyz").WaitAsync(Wait);

        Assert.Equal(HttpStatusCode.OK, chat.StatusCode);
        Assert.Equal(1, a.Calls + b.Calls);
        var pool = ready.GetProperty("checks").EnumerateArray().Single(c => c.GetProperty("name").GetString() == "backend:model");
        Assert.Equal("closed", pool.GetProperty("data").GetProperty(a.BaseAddress.Authority).GetString());
        Assert.Equal("closed", pool.GetProperty("data").GetProperty(b.BaseAddress.Authority).GetString());
    }

    [Fact]
    public async Task ChatCompletions_WithBaseUrl_MalformedJson_Is400Problem()
    {
        await using var backend = await FakeModelBackend.StartAsync();
        await using var factory = new ModelApiFactory(new Dictionary<string, string?> { ["ModelBackend:BaseUrl"] = backend.BaseAddress + "v1" });
        using var client = factory.CreateClient();

        using var response = await client.PostAsync("/v1/chat/completions", new StringContent("{nope", Encoding.UTF8, "application/json")).WaitAsync(Wait);

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.Equal(0, backend.Calls);
    }

    private static async Task<string> ReadUntilAsync(Stream stream, string marker)
    {
        var buffer = new byte[4096];
        var text = new StringBuilder();
        while (!text.ToString().Contains(marker, StringComparison.Ordinal))
        {
            var read = await stream.ReadAsync(buffer);
            if (read == 0)
            {
                break;
            }

            text.Append(Encoding.UTF8.GetString(buffer, 0, read));
        }

        return text.ToString();
    }
}
