using System.Net;
using System.Text;
using AiEdge.Middleware.Testing;
using Microsoft.Extensions.Logging;

namespace AiEdge.Samples.Gateway.Tests;

/// <summary>
/// What the gateway relays of a misbehaving vLLM replica: a stream the replica breaks ends cleanly for the client
/// (the events so far, then a final error event), logged once at Warning and counted; the replica's cookies,
/// hop-by-hop and internal headers never reach the client.
/// </summary>
public sealed class BackendRelayTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Replica_dying_mid_stream_ends_the_clients_stream_cleanly_with_one_warning_and_a_count()
    {
        await using var a = await BrokenBackend.StartAsync();
        await using var b = await BrokenBackend.StartAsync();
        await using var c = await BrokenBackend.StartAsync();
        await using var qdrant = await FakeQdrant.StartAsync();
        var logs = new LogCapture();
        using var broken = new MeasurementRecorder("aiedge.backend.broken_streams");
        await using var gateway = new GatewayFactory([a.BaseAddress, b.BaseAddress, c.BaseAddress], qdrant.BaseAddress, logs: logs);
        using var client = new HttpClient { BaseAddress = gateway.StartKestrel() };

        using var response = await client.SendAsync(Chat(stream: true), HttpCompletionOption.ResponseHeadersRead).WaitAsync(Timeout);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync().WaitAsync(Timeout);   // throws unless the stream ended cleanly

        Assert.StartsWith(BrokenBackend.Event(0) + BrokenBackend.Event(1), body, StringComparison.Ordinal);
        Assert.EndsWith("\n\nevent: error\ndata: {\"error\":{\"message\":\"The model backend broke the stream.\",\"type\":\"server_error\",\"code\":\"backend_stream_broken\"}}\n\n", body, StringComparison.Ordinal);
        Assert.Empty(logs.AtLeast(LogLevel.Error));
        var warning = Assert.Single(logs.Entries, e => e.EventId.Id == 2302);
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.StartsWith("Backend vllm/", warning.Message, StringComparison.Ordinal);
        Assert.Equal(1, broken.Sum("aiedge.breaker.name", "vllm"));
    }

    [Fact]
    public async Task Replica_cookies_hop_by_hop_and_internal_headers_do_not_reach_the_client()
    {
        await using var a = await BrokenBackend.StartAsync();
        await using var b = await BrokenBackend.StartAsync();
        await using var c = await BrokenBackend.StartAsync();
        await using var qdrant = await FakeQdrant.StartAsync();
        await using var gateway = new GatewayFactory([a.BaseAddress, b.BaseAddress, c.BaseAddress], qdrant.BaseAddress);
        using var client = new HttpClient(new SocketsHttpHandler { UseCookies = false }) { BaseAddress = gateway.StartKestrel() };

        foreach (var stream in new[] { false, true })
        {
            using var response = await client.SendAsync(Chat(stream), HttpCompletionOption.ResponseHeadersRead).WaitAsync(Timeout);

            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            BrokenBackend.AssertRelayedHeadersOnly(response);
            await response.Content.ReadAsStringAsync().WaitAsync(Timeout);
        }
    }

    private static HttpRequestMessage Chat(bool stream)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = new StringContent("{\"model\":\"llama\",\"stream\":" + (stream ? "true" : "false") + ",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("X-API-Key", GatewayFactory.TeamAKey);
        return request;
    }
}
