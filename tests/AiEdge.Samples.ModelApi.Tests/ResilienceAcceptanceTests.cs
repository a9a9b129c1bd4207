using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using AiEdge.Middleware.Testing;
using Microsoft.Extensions.Logging;

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

    [Fact]
    public async Task ChatCompletions_BackendDiesMidStream_ClientGetsTheEventsAnErrorEventAndACleanEnd_NoErrorLog()
    {
        await using var backend = await BrokenBackend.StartAsync();
        var logs = new LogCapture();
        using var broken = new MeasurementRecorder("aiedge.backend.broken_streams");
        await using var factory = new ModelApiFactory(new Dictionary<string, string?> { ["ModelBackend:BaseUrl"] = backend.BaseAddress + "v1" }, logs);
        var baseAddress = factory.StartKestrel();
        using var client = new HttpClient { BaseAddress = baseAddress };
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = JsonContent.Create(Chat(stream: true)) };

        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead).WaitAsync(Wait);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync().WaitAsync(Wait);   // throws if the stream did not end cleanly

        Assert.StartsWith(BrokenBackend.Event(0) + BrokenBackend.Event(1), body, StringComparison.Ordinal);
        Assert.EndsWith("event: error\ndata: {\"error\":{\"message\":\"The model backend broke the stream.\",\"type\":\"server_error\",\"code\":\"backend_stream_broken\"}}\n\n", body, StringComparison.Ordinal);
        Assert.Empty(logs.AtLeast(LogLevel.Error));
        var warning = Assert.Single(logs.Entries, e => e.EventId.Id == 1613);
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Contains(backend.BaseAddress.Authority, warning.Message, StringComparison.Ordinal);
        Assert.Contains("after " + Encoding.UTF8.GetByteCount(BrokenBackend.Event(0) + BrokenBackend.Event(1)) + " bytes", warning.Message, StringComparison.Ordinal);
        Assert.Equal(1, broken.Sum("aiedge.backend.replica", backend.BaseAddress.Authority));
    }

    [Fact]
    public async Task ChatCompletions_BackendDiesInsideAnEvent_PartialEventIsLeftUnterminated_CleanEnd()
    {
        await using var backend = await BrokenBackend.StartAsync();
        backend.PartialEvent = "data: {\"object\":\"chat.comp";
        var logs = new LogCapture();
        await using var factory = new ModelApiFactory(new Dictionary<string, string?> { ["ModelBackend:BaseUrl"] = backend.BaseAddress + "v1" }, logs);
        var baseAddress = factory.StartKestrel();
        using var client = new HttpClient { BaseAddress = baseAddress };

        using var response = await client.PostAsJsonAsync("/v1/chat/completions", Chat(stream: true)).WaitAsync(Wait);
        var body = await response.Content.ReadAsStringAsync().WaitAsync(Wait);

        // An SSE parser discards an event the stream ends inside of; nothing is appended that would complete it.
        Assert.Equal(BrokenBackend.Event(0) + BrokenBackend.Event(1) + backend.PartialEvent, body);
        Assert.Empty(logs.AtLeast(LogLevel.Error));
        Assert.Single(logs.Entries, e => e.EventId.Id == 1613);
    }

    [Fact]
    public async Task ChatCompletions_BackendBrokenStreams_CountAgainstItsBreaker()
    {
        await using var backend = await BrokenBackend.StartAsync();
        await using var factory = new ModelApiFactory(new Dictionary<string, string?>
        {
            ["ModelBackend:BaseUrl"] = backend.BaseAddress + "v1",
            ["AiEdge:Resilience:Breakers:model:MinimumThroughput"] = "2",
            ["AiEdge:Resilience:Breakers:model:FailureRatio"] = "0.5",
            ["AiEdge:Resilience:Breakers:model:BreakDuration"] = "00:01:00",
        });
        var baseAddress = factory.StartKestrel();
        using var client = new HttpClient { BaseAddress = baseAddress };

        using (var first = await client.PostAsJsonAsync("/v1/chat/completions", Chat(stream: true)).WaitAsync(Wait))
        {
            await first.Content.ReadAsStringAsync().WaitAsync(Wait);
        }

        // The headers' success and the body's failure: half the outcomes failed, so the breaker opens.
        using var refused = await client.PostAsJsonAsync("/v1/chat/completions", Chat(stream: true)).WaitAsync(Wait);
        await ProblemAssert.IsProblemAsync(refused, HttpStatusCode.ServiceUnavailable);
    }

    [Fact]
    public async Task ChatCompletions_BackendHeaders_HopByHopCookiesAndInternalOnesAreNotRelayed()
    {
        await using var backend = await BrokenBackend.StartAsync();
        await using var factory = new ModelApiFactory(new Dictionary<string, string?> { ["ModelBackend:BaseUrl"] = backend.BaseAddress + "v1" });
        var baseAddress = factory.StartKestrel();
        using var client = new HttpClient(new SocketsHttpHandler { UseCookies = false }) { BaseAddress = baseAddress };

        using var response = await client.PostAsJsonAsync("/v1/chat/completions", Chat()).WaitAsync(Wait);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        BrokenBackend.AssertRelayedHeadersOnly(response);
    }

    [Fact]
    public async Task ChatCompletions_BackendHeaders_AllowedOnesAreRelayed()
    {
        await using var backend = await BrokenBackend.StartAsync();
        await using var factory = new ModelApiFactory(new Dictionary<string, string?>
        {
            ["ModelBackend:BaseUrl"] = backend.BaseAddress + "v1",
            ["AiEdge:Resilience:Relay:AllowedHeaders:0"] = "Set-Cookie",
            ["AiEdge:Resilience:Relay:AllowedHeaders:1"] = "X-Internal-Trace",
        });
        var baseAddress = factory.StartKestrel();
        using var client = new HttpClient(new SocketsHttpHandler { UseCookies = false }) { BaseAddress = baseAddress };

        using var response = await client.PostAsJsonAsync("/v1/chat/completions", Chat()).WaitAsync(Wait);

        Assert.Equal("session=backend-secret; Path=/", Assert.Single(response.Headers.GetValues("Set-Cookie")));
        Assert.Equal("gpu-7", Assert.Single(response.Headers.GetValues("X-Internal-Trace")));
        Assert.False(response.Headers.Contains("X-Hop-Secret"));
        Assert.False(response.Headers.Contains("Keep-Alive"));
    }

    [Fact]
    public async Task ChatCompletions_BackendDiesInsideAJsonBody_ClientSeesATruncatedAnswer_NoErrorLog()
    {
        await using var backend = await BrokenBackend.StartAsync();
        backend.AbortJson = true;
        var logs = new LogCapture();
        await using var factory = new ModelApiFactory(new Dictionary<string, string?> { ["ModelBackend:BaseUrl"] = backend.BaseAddress + "v1" }, logs);
        var baseAddress = factory.StartKestrel();
        using var client = new HttpClient { BaseAddress = baseAddress };

        // Either a 502 problem (nothing was sent yet) or a reset connection: never a 200 that looks complete.
        try
        {
            using var response = await client.PostAsJsonAsync("/v1/chat/completions", Chat()).WaitAsync(Wait);
            await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadGateway);
        }
        catch (HttpRequestException)
        {
        }

        // A reset can reach the edge before or after the answer's headers: a failed call (1611) or a broken stream (1613).
        Assert.Empty(logs.AtLeast(LogLevel.Error));
        Assert.Single(logs.Entries, e => e.Level == LogLevel.Warning && e.EventId.Id is 1611 or 1613);
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
