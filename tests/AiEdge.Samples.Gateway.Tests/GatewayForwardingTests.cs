using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace AiEdge.Samples.Gateway.Tests;

/// <summary>The gateway forwards to the vLLM and Qdrant pools, streams through, and guards every route with an API key.</summary>
public sealed class GatewayForwardingTests(GatewayFixture fixture) : IClassFixture<GatewayFixture>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Chat_completion_is_forwarded_to_a_vllm_replica_without_the_callers_key()
    {
        const string body = "{\"model\":\"llama\",\"messages\":[{\"role\":\"user\",\"content\":\"forward-me\"}],\"max_tokens\":8}";
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = Json(body) };
        request.Headers.Add("X-API-Key", GatewayFactory.TeamAKey);
        request.Headers.Add("X-Trace-Me", "t-1");

        using var response = await fixture.Client.SendAsync(request).WaitAsync(Timeout);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var answer = JsonDocument.Parse(await response.Content.ReadAsStringAsync().WaitAsync(Timeout));
        Assert.StartsWith("gpu-", answer.RootElement.GetProperty("model").GetString());
        var seen = Assert.Single(fixture.VllmRequests, r => r.Body.Contains("forward-me", StringComparison.Ordinal));
        Assert.Equal("POST", seen.Method);
        Assert.Equal("/v1/chat/completions", seen.PathAndQuery);
        Assert.Equal(body, seen.Body);
        Assert.Equal("t-1", seen.CustomHeader);
        Assert.Equal(string.Empty, seen.Credentials);
        Assert.Equal("127.0.0.1", seen.RealIp);
        Assert.Equal("127.0.0.1", seen.ForwardedFor);
        Assert.Equal("generate", Assert.Single(response.Headers.GetValues("RateLimit-Policy")).Split(';')[0].Trim('"'));
    }

    [Fact]
    public async Task Other_v1_routes_keep_their_method_path_and_query()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/models?owner=me&limit=2");
        request.Headers.Authorization = new("Bearer", GatewayFactory.TeamBKey);

        using var response = await fixture.Client.SendAsync(request).WaitAsync(Timeout);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains(fixture.VllmRequests, r => r.Method == "GET" && r.PathAndQuery == "/v1/models?owner=me&limit=2" && r.Credentials.Length == 0);
    }

    [Fact]
    public async Task Qdrant_routes_lose_their_prefix_and_need_the_vectors_scope()
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, "/qdrant/collections/docs/points?wait=true")
        {
            Content = Json("{\"points\":[{\"id\":1,\"vector\":[0.1,0.2]}]}"),
        };
        request.Headers.Add("X-API-Key", GatewayFactory.TeamAKey);

        using var response = await fixture.Client.SendAsync(request).WaitAsync(Timeout);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("ok", (await response.Content.ReadFromJsonAsync<JsonElement>().WaitAsync(Timeout)).GetProperty("status").GetString());
        var seen = Assert.Single(fixture.Qdrant.Requests, r => r.PathAndQuery == "/collections/docs/points?wait=true");
        Assert.Equal("PUT", seen.Method);
        Assert.Contains("\"vector\"", seen.Body, StringComparison.Ordinal);

        var before = fixture.Qdrant.Requests.Count;
        using var forbidden = new HttpRequestMessage(HttpMethod.Get, "/qdrant/collections");
        forbidden.Headers.Add("X-API-Key", GatewayFactory.TeamBKey);
        using var refused = await fixture.Client.SendAsync(forbidden).WaitAsync(Timeout);
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        Assert.Equal(before, fixture.Qdrant.Requests.Count);
    }

    [Fact]
    public async Task Streamed_chat_completion_passes_through_event_by_event()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = Json("{\"model\":\"llama\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"stream-me\"}],\"max_tokens\":8}"),
        };
        request.Headers.Add("X-API-Key", GatewayFactory.TeamAKey);

        using var response = await fixture.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead).WaitAsync(Timeout);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("no", Assert.Single(response.Headers.GetValues("X-Accel-Buffering")));
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync().WaitAsync(Timeout));

        // The backend holds the rest of its stream until released: the first event must already be here.
        var first = await reader.ReadLineAsync().WaitAsync(Timeout);
        Assert.Contains("\"Hel\"", first, StringComparison.Ordinal);
        foreach (var vllm in fixture.Vllm)
        {
            vllm.ReleaseStream();
        }

        var rest = await reader.ReadToEndAsync().WaitAsync(Timeout);
        Assert.Contains("\"lo\"", rest, StringComparison.Ordinal);
        Assert.EndsWith("data: [DONE]\n\n", rest, StringComparison.Ordinal);

        // The generate tier has a token budget: the gateway asked the backend for usage, charged it, and kept the
        // usage chunk the client did not ask for out of its stream.
        Assert.DoesNotContain("\"total_tokens\"", rest, StringComparison.Ordinal);
        var asked = false;
        foreach (var vllm in fixture.Vllm)
        {
            foreach (var seen in vllm.Requests)
            {
                asked |= seen.Body.Contains("\"include_usage\":true", StringComparison.Ordinal) && seen.Body.Contains("stream-me", StringComparison.Ordinal);
            }
        }

        Assert.True(asked, "The backend was not asked for usage.");
    }

    [Theory]
    [InlineData("/v1/chat/completions", null)]
    [InlineData("/v1/chat/completions", "not-a-key")]
    [InlineData("/v1/models", null)]
    [InlineData("/qdrant/collections", null)]
    [InlineData("/qdrant/collections", "gw-demo-team-c-key")]
    public async Task Missing_or_invalid_api_key_gets_401_problem_and_reaches_no_backend(string path, string? key)
    {
        var before = fixture.VllmRequests.Count() + fixture.Qdrant.Requests.Count;
        using var request = new HttpRequestMessage(path.EndsWith("completions", StringComparison.Ordinal) ? HttpMethod.Post : HttpMethod.Get, path);
        if (path.EndsWith("completions", StringComparison.Ordinal))
        {
            request.Content = Json("{\"model\":\"llama\",\"messages\":[]}");
        }

        if (key is not null)
        {
            request.Headers.Add("X-API-Key", key);
        }

        using var response = await fixture.Client.SendAsync(request).WaitAsync(Timeout);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.First().Scheme);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync().WaitAsync(Timeout));
        Assert.Equal(401, problem.RootElement.GetProperty("status").GetInt32());
        Assert.Equal(before, fixture.VllmRequests.Count() + fixture.Qdrant.Requests.Count);
    }

    [Fact]
    public async Task Health_endpoints_need_no_key_and_readiness_lists_every_cluster_and_destination()
    {
        using var live = await fixture.Client.GetAsync("/healthz").WaitAsync(Timeout);
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);

        using var ready = await fixture.Client.GetAsync("/readyz").WaitAsync(Timeout);
        var text = await ready.Content.ReadAsStringAsync().WaitAsync(Timeout);
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Contains("reverse-proxy", text, StringComparison.Ordinal);
        foreach (var entry in new[] { "\"vllm\"", "\"vllm/gpu-0\"", "\"vllm/gpu-1\"", "\"vllm/gpu-2\"", "\"qdrant\"", "\"qdrant/qdrant-0\"" })
        {
            Assert.Contains(entry, text, StringComparison.Ordinal);
        }
    }

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");
}
