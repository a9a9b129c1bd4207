using System.Net;
using System.Text;
using System.Text.Json;
using AiEdge.Middleware.Testing;
using Microsoft.Extensions.Logging;

namespace AiEdge.Middleware.ReverseProxy.Tests;

/// <summary>AiEdge in front of YARP, against real model servers on loopback.</summary>
public sealed class ReverseProxyIntegrationTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Streamed_answer_reaches_the_client_event_by_event_before_the_backend_finishes()
    {
        await using var backend = await FakeModelServer.StartAsync("gpu-0");
        var settings = new Dictionary<string, string?>();
        ProxyGateway.Route(settings, "chat", "/v1/chat/completions", "vllm");
        ProxyGateway.Cluster(settings, "vllm", backend.BaseAddress);
        await using var gateway = await ProxyGateway.StartAsync(settings);

        using var response = await gateway.Client.SendAsync(Chat(stream: true), HttpCompletionOption.ResponseHeadersRead).WaitAsync(Timeout);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync().WaitAsync(Timeout));
        var first = await reader.ReadLineAsync().WaitAsync(Timeout);   // the backend holds the rest until released
        Assert.Contains("\"Hel\"", first, StringComparison.Ordinal);
        backend.ReleaseStream();
        var rest = await reader.ReadToEndAsync().WaitAsync(Timeout);
        Assert.Contains("\"lo\"", rest, StringComparison.Ordinal);
        Assert.EndsWith("data: [DONE]\n\n", rest, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("POST", "/pause")]
    [InlineData("POST", "/resume")]
    [InlineData("POST", "/abort_requests")]
    [InlineData("POST", "/invocations")]
    [InlineData("GET", "/metrics")]
    [InlineData("GET", "/health")]
    [InlineData("GET", "/v1/chat")]
    [InlineData("GET", "/v1/../pause")]
    public async Task Paths_no_route_lists_reach_no_backend(string method, string path)
    {
        await using var backend = await FakeModelServer.StartAsync("gpu-0");
        var settings = new Dictionary<string, string?>();
        ProxyGateway.Route(settings, "chat", "/v1/chat/completions", "vllm");
        ProxyGateway.Route(settings, "models", "/v1/models", "vllm");
        ProxyGateway.Cluster(settings, "vllm", backend.BaseAddress);
        await using var gateway = await ProxyGateway.StartAsync(settings);

        using var response = await gateway.Client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path) { Content = method == "POST" ? Json("{}") : null }).WaitAsync(Timeout);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Empty(backend.Requests);
    }

    [Fact]
    public async Task Admin_endpoint_is_reachable_once_a_route_lists_it()
    {
        await using var backend = await FakeModelServer.StartAsync("gpu-0");
        var settings = new Dictionary<string, string?>();
        ProxyGateway.Route(settings, "metrics", "/metrics", "vllm", (AiEdgeRouteMetadata.RequireScopes, "vectors"));
        ProxyGateway.Cluster(settings, "vllm", backend.BaseAddress);
        await using var gateway = await ProxyGateway.StartAsync(settings);

        using var anonymous = await gateway.Client.GetAsync("/metrics").WaitAsync(Timeout);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        request.Headers.Add("X-API-Key", ProxyGateway.VectorsKey);
        using var allowed = await gateway.Client.SendAsync(request).WaitAsync(Timeout);

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        Assert.Equal("/metrics", Assert.Single(backend.Requests));
    }

    [Fact]
    public async Task Route_metadata_applies_scopes_and_the_rate_limit_tier()
    {
        await using var backend = await FakeModelServer.StartAsync("qdrant");
        var settings = new Dictionary<string, string?>
        {
            ["ReverseProxy:Routes:qdrant:Transforms:0:PathRemovePrefix"] = "/qdrant",
        };
        ProxyGateway.Route(settings, "qdrant", "/qdrant/{**rest}", "qdrant", (AiEdgeRouteMetadata.RequireScopes, "vectors"), (AiEdgeRouteMetadata.RateLimitTier, "api"));
        ProxyGateway.Cluster(settings, "qdrant", backend.BaseAddress);
        await using var gateway = await ProxyGateway.StartAsync(settings);

        using var plain = new HttpRequestMessage(HttpMethod.Get, "/qdrant/collections");
        plain.Headers.Add("X-API-Key", ProxyGateway.PlainKey);
        using var forbidden = await gateway.Client.SendAsync(plain).WaitAsync(Timeout);
        using var allowed = new HttpRequestMessage(HttpMethod.Get, "/qdrant/collections?limit=2");
        allowed.Headers.Add("X-API-Key", ProxyGateway.VectorsKey);
        using var ok = await gateway.Client.SendAsync(allowed).WaitAsync(Timeout);

        await ProblemAssert.IsProblemAsync(forbidden, HttpStatusCode.Forbidden);
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Equal("api", Assert.Single(ok.Headers.GetValues("RateLimit-Policy")).Split(';')[0].Trim('"'));
        Assert.Equal("/collections?limit=2", Assert.Single(backend.Requests));
    }

    [Fact]
    public async Task Failing_destination_is_taken_out_by_its_breaker_and_its_5xx_becomes_a_502_problem()
    {
        await using var healthy = await FakeModelServer.StartAsync("gpu-ok");
        await using var failing = await FakeModelServer.StartAsync("gpu-bad");
        failing.Status = 500;
        var settings = new Dictionary<string, string?>
        {
            ["AiEdge:ReverseProxy:Breakers:vllm:MinimumThroughput"] = "2",
            ["AiEdge:ReverseProxy:Breakers:vllm:BreakDuration"] = "00:10:00",
            ["ReverseProxy:Clusters:vllm:LoadBalancingPolicy"] = "RoundRobin",
        };
        ProxyGateway.Route(settings, "chat", "/v1/chat/completions", "vllm");
        ProxyGateway.Cluster(settings, "vllm", healthy.BaseAddress, failing.BaseAddress);
        var logs = new LogCapture();
        await using var gateway = await ProxyGateway.StartAsync(settings, logs);

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 20; i++)
        {
            using var response = await gateway.Client.SendAsync(Chat(stream: false)).WaitAsync(Timeout);
            statuses.Add(response.StatusCode);
            if (response.StatusCode != HttpStatusCode.OK)
            {
                var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadGateway);
                Assert.DoesNotContain("gpu fault", problem.ToString(), StringComparison.Ordinal);
            }
        }

        Assert.Equal(2, failing.Requests.Count);
        Assert.Equal(2, statuses.Count(s => s == HttpStatusCode.BadGateway));
        Assert.Equal(18, healthy.Requests.Count);
        Assert.Single(logs.WithId(2304));
        Assert.Empty(logs.AtLeast(LogLevel.Error));

        using var ready = await gateway.Client.GetAsync("/readyz").WaitAsync(Timeout);
        var text = await ready.Content.ReadAsStringAsync().WaitAsync(Timeout);
        Assert.Contains("vllm/d1", text, StringComparison.Ordinal);
        Assert.Contains("breaker_open", text, StringComparison.Ordinal);
        Assert.Contains("1 of 2 destinations available", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task No_available_destination_is_a_503_problem_with_retry_after()
    {
        await using var failing = await FakeModelServer.StartAsync("gpu-bad");
        failing.Status = 500;
        var settings = new Dictionary<string, string?>
        {
            ["AiEdge:ReverseProxy:Breakers:vllm:MinimumThroughput"] = "2",
            ["AiEdge:ReverseProxy:Breakers:vllm:BreakDuration"] = "00:01:00",
        };
        ProxyGateway.Route(settings, "chat", "/v1/chat/completions", "vllm");
        ProxyGateway.Cluster(settings, "vllm", failing.BaseAddress);
        var logs = new LogCapture();
        await using var gateway = await ProxyGateway.StartAsync(settings, logs);

        for (var i = 0; i < 2; i++)
        {
            using var failed = await gateway.Client.SendAsync(Chat(stream: false)).WaitAsync(Timeout);
            Assert.Equal(HttpStatusCode.BadGateway, failed.StatusCode);
        }

        using var response = await gateway.Client.SendAsync(Chat(stream: false)).WaitAsync(Timeout);

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.ServiceUnavailable);
        Assert.Contains("vllm", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        var retryAfter = response.Headers.RetryAfter?.Delta;
        Assert.NotNull(retryAfter);
        Assert.InRange(retryAfter.Value.TotalSeconds, 50, 60);
        Assert.Equal(2, failing.Requests.Count);
        Assert.Single(logs.WithId(2303));

        using var ready = await gateway.Client.GetAsync("/readyz").WaitAsync(Timeout);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
    }

    [Fact]
    public async Task Refused_connection_is_a_502_problem_and_a_hung_backend_a_504_problem_never_an_error_log()
    {
        await using var hung = await FakeModelServer.StartAsync("gpu-hung");
        hung.Hang = true;
        var settings = new Dictionary<string, string?>
        {
            ["ReverseProxy:Clusters:hung:HttpRequest:ActivityTimeout"] = "00:00:00.500",
        };
        ProxyGateway.Route(settings, "refused", "/refused", "refused");
        ProxyGateway.Cluster(settings, "refused", FakeModelServer.RefusingAddress());
        ProxyGateway.Route(settings, "hung", "/hung", "hung");
        ProxyGateway.Cluster(settings, "hung", hung.BaseAddress);
        var logs = new LogCapture();
        await using var gateway = await ProxyGateway.StartAsync(settings, logs);

        using var refused = await gateway.Client.GetAsync("/refused").WaitAsync(Timeout);
        using var timedOut = await gateway.Client.GetAsync("/hung").WaitAsync(Timeout);

        await ProblemAssert.IsProblemAsync(refused, HttpStatusCode.BadGateway);
        await ProblemAssert.IsProblemAsync(timedOut, HttpStatusCode.GatewayTimeout);
        Assert.Equal(2, logs.WithId(2301).Count);
        Assert.Empty(logs.AtLeast(LogLevel.Error));
    }

    [Fact]
    public async Task Backend_dying_mid_stream_ends_the_clients_stream_with_an_error_event()
    {
        await using var broken = await BrokenBackend.StartAsync();
        var settings = new Dictionary<string, string?>();
        ProxyGateway.Route(settings, "chat", "/v1/chat/completions", "vllm");
        ProxyGateway.Cluster(settings, "vllm", broken.BaseAddress);
        var logs = new LogCapture();
        await using var gateway = await ProxyGateway.StartAsync(settings, logs);

        using var response = await gateway.Client.SendAsync(Chat(stream: true), HttpCompletionOption.ResponseHeadersRead).WaitAsync(Timeout);
        var body = await response.Content.ReadAsStringAsync().WaitAsync(Timeout);   // throws unless the stream ended cleanly

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith(BrokenBackend.Event(0) + BrokenBackend.Event(1), body, StringComparison.Ordinal);
        Assert.EndsWith("event: error\ndata: {\"error\":{\"message\":\"The model backend broke the stream.\",\"type\":\"server_error\",\"code\":\"backend_stream_broken\"}}\n\n", body, StringComparison.Ordinal);
        Assert.Single(logs.WithId(2302));
        Assert.Empty(logs.AtLeast(LogLevel.Error));
    }

    [Fact]
    public async Task Backend_dying_inside_an_event_aborts_the_clients_stream()
    {
        await using var broken = await BrokenBackend.StartAsync();
        broken.PartialEvent = "data: {\"half";
        var settings = new Dictionary<string, string?>();
        ProxyGateway.Route(settings, "chat", "/v1/chat/completions", "vllm");
        ProxyGateway.Cluster(settings, "vllm", broken.BaseAddress);
        await using var gateway = await ProxyGateway.StartAsync(settings);

        // The connection is aborted: depending on how far the relayed bytes got, the head or the body read fails.
        await Assert.ThrowsAnyAsync<HttpRequestException>(async () =>
        {
            using var response = await gateway.Client.SendAsync(Chat(stream: true), HttpCompletionOption.ResponseHeadersRead).WaitAsync(Timeout);
            await response.Content.ReadAsStringAsync().WaitAsync(Timeout);
        });
    }

    [Fact]
    public async Task Backend_cookies_hop_by_hop_and_internal_headers_do_not_reach_the_client()
    {
        await using var broken = await BrokenBackend.StartAsync();
        var settings = new Dictionary<string, string?>();
        ProxyGateway.Route(settings, "chat", "/v1/chat/completions", "vllm");
        ProxyGateway.Cluster(settings, "vllm", broken.BaseAddress);
        await using var gateway = await ProxyGateway.StartAsync(settings);

        using var response = await gateway.Client.SendAsync(Chat(stream: false)).WaitAsync(Timeout);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        BrokenBackend.AssertRelayedHeadersOnly(response);
    }

    [Fact]
    public async Task Allowed_response_header_is_relayed()
    {
        await using var backend = await FakeModelServer.StartAsync("gpu-0");
        var settings = new Dictionary<string, string?>
        {
            ["AiEdge:ReverseProxy:AllowedResponseHeaders:0"] = "Set-Cookie",
        };
        ProxyGateway.Route(settings, "models", "/v1/models", "vllm");
        ProxyGateway.Cluster(settings, "vllm", backend.BaseAddress);
        await using var gateway = await ProxyGateway.StartAsync(settings);

        using var response = await gateway.Client.GetAsync("/v1/models").WaitAsync(Timeout);

        Assert.Equal("backend=secret", Assert.Single(response.Headers.GetValues("Set-Cookie")));
        Assert.False(response.Headers.Contains("X-Internal-Gpu"));
    }

    [Fact]
    public async Task Destination_answering_429_with_retry_after_is_left_alone_that_long()
    {
        await using var busy = await FakeModelServer.StartAsync("gpu-busy");
        await using var idle = await FakeModelServer.StartAsync("gpu-idle");
        busy.Status = 429;
        busy.RetryAfterSeconds = 120;
        var settings = new Dictionary<string, string?>
        {
            ["ReverseProxy:Clusters:vllm:LoadBalancingPolicy"] = "RoundRobin",
        };
        ProxyGateway.Route(settings, "models", "/v1/models", "vllm");
        ProxyGateway.Cluster(settings, "vllm", busy.BaseAddress, idle.BaseAddress);
        var logs = new LogCapture();
        await using var gateway = await ProxyGateway.StartAsync(settings, logs);

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 10; i++)
        {
            using var response = await gateway.Client.GetAsync("/v1/models").WaitAsync(Timeout);
            statuses.Add(response.StatusCode);
        }

        Assert.Single(busy.Requests);
        Assert.Equal(1, statuses.Count(s => s == HttpStatusCode.TooManyRequests));
        Assert.Equal(9, idle.Requests.Count);
        Assert.Single(logs.WithId(2306));
    }

    [Fact]
    public async Task Readiness_lists_every_cluster_and_destination()
    {
        await using var a = await FakeModelServer.StartAsync("gpu-a");
        await using var q = await FakeModelServer.StartAsync("qdrant");
        var settings = new Dictionary<string, string?>();
        ProxyGateway.Route(settings, "chat", "/v1/chat/completions", "vllm");
        ProxyGateway.Route(settings, "qdrant", "/qdrant/{**rest}", "qdrant");
        ProxyGateway.Cluster(settings, "vllm", a.BaseAddress, FakeModelServer.RefusingAddress());
        ProxyGateway.Cluster(settings, "qdrant", q.BaseAddress);
        await using var gateway = await ProxyGateway.StartAsync(settings);

        using var ready = await gateway.Client.GetAsync("/readyz").WaitAsync(Timeout);
        var text = await ready.Content.ReadAsStringAsync().WaitAsync(Timeout);

        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        using var json = JsonDocument.Parse(text);
        Assert.Contains("reverse-proxy", text, StringComparison.Ordinal);
        foreach (var name in new[] { "vllm/d0", "vllm/d1", "qdrant/d0", "\"vllm\"", "\"qdrant\"" })
        {
            Assert.Contains(name, text, StringComparison.Ordinal);
        }
    }

    private static HttpRequestMessage Chat(bool stream) => new(HttpMethod.Post, "/v1/chat/completions")
    {
        Content = Json("{\"model\":\"llama\",\"stream\":" + (stream ? "true" : "false") + ",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"),
    };

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");
}
