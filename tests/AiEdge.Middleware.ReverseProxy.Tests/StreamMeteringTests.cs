using System.Net;
using System.Text;
using AiEdge.Middleware.Testing;
using Microsoft.Extensions.Time.Testing;

namespace AiEdge.Middleware.ReverseProxy.Tests;

/// <summary>
/// Streams through the gateway are metered for the token budget even when the client does not ask for usage, and
/// bounded by the first-byte, idle and total timeouts (on a fake clock, advanced once the backend holds the call).
/// </summary>
public sealed class StreamMeteringTests
{
    private const int TokensReconciled = 1105;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Client_that_did_not_ask_for_usage_gets_no_usage_chunk_and_is_charged_the_backends_count()
    {
        await using var backend = await FakeModelServer.StartAsync("gpu-0");
        backend.ReleaseStream();
        var logs = new LogCapture();
        await using var gateway = await ProxyGateway.StartAsync(BudgetSettings(backend.BaseAddress), logs);

        var stream = await ReadStreamAsync(gateway, Chat("{\"model\":\"llama\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi there\"}]}"));

        var sent = Assert.Single(backend.Bodies);
        Assert.Contains("\"stream_options\":{\"include_usage\":true}", sent, StringComparison.Ordinal);
        Assert.StartsWith("{\"model\":\"llama\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi there\"}]", sent, StringComparison.Ordinal);
        Assert.DoesNotContain("prompt_tokens", stream, StringComparison.Ordinal);
        Assert.DoesNotContain("\"choices\":[]", stream, StringComparison.Ordinal);
        Assert.Contains("\"Hel\"", stream, StringComparison.Ordinal);
        Assert.EndsWith("data: [DONE]\n\n", stream, StringComparison.Ordinal);
        Assert.Equal(18L, await UsedTokensAsync(logs));   // 11 prompt + 7 completion, as the backend counted
    }

    [Fact]
    public async Task Metered_stream_relays_its_first_event_before_the_backend_finishes()
    {
        await using var backend = await FakeModelServer.StartAsync("gpu-0");   // holds the stream after its first event
        var logs = new LogCapture();
        await using var gateway = await ProxyGateway.StartAsync(BudgetSettings(backend.BaseAddress), logs);

        using var response = await gateway.Client.SendAsync(Chat("{\"stream\":true,\"messages\":[]}"), HttpCompletionOption.ResponseHeadersRead).WaitAsync(Timeout);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync().WaitAsync(Timeout));
        var first = await reader.ReadLineAsync().WaitAsync(Timeout);
        backend.ReleaseStream();
        var rest = await reader.ReadToEndAsync().WaitAsync(Timeout);

        Assert.Contains("\"Hel\"", first, StringComparison.Ordinal);
        Assert.Contains("\"lo\"", rest, StringComparison.Ordinal);
        Assert.DoesNotContain("prompt_tokens", rest, StringComparison.Ordinal);
        Assert.Equal(18L, await UsedTokensAsync(logs));
    }

    [Fact]
    public async Task Client_that_asked_for_usage_gets_the_usage_chunk_as_sent_and_its_body_untouched()
    {
        await using var backend = await FakeModelServer.StartAsync("gpu-0");
        backend.ReleaseStream();
        var logs = new LogCapture();
        await using var gateway = await ProxyGateway.StartAsync(BudgetSettings(backend.BaseAddress), logs);
        const string body = "{\"model\":\"llama\", \"stream\": true, \"stream_options\": {\"include_usage\": true}, \"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";

        var stream = await ReadStreamAsync(gateway, Chat(body));

        Assert.Equal(body, Assert.Single(backend.Bodies));
        Assert.Contains("data: {\"choices\":[],\"usage\":{\"prompt_tokens\":11,\"completion_tokens\":7,\"total_tokens\":18}}\n\n", stream, StringComparison.Ordinal);
        Assert.Equal(18L, await UsedTokensAsync(logs));
    }

    [Fact]
    public async Task Backend_that_sends_no_usage_is_charged_the_estimate_from_the_relayed_text()
    {
        await using var backend = await FakeModelServer.StartAsync("gpu-0");
        backend.SendsUsage = false;
        backend.StreamChunks = ["The quick brown fox ", "jumps over the lazy dog"];   // 43 characters
        backend.ReleaseStream();
        var logs = new LogCapture();
        await using var gateway = await ProxyGateway.StartAsync(BudgetSettings(backend.BaseAddress), logs);

        var stream = await ReadStreamAsync(gateway, Chat("{\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi there\"}]}"));

        Assert.Contains("lazy dog", stream, StringComparison.Ordinal);
        Assert.Equal(3L + 11L, await UsedTokensAsync(logs));   // the rate limiter's prompt estimate, ceil(12 / 4), + ceil(43 / 4)
    }

    [Fact]
    public async Task Body_that_is_not_json_and_routes_without_a_budget_pass_untouched()
    {
        await using var backend = await FakeModelServer.StartAsync("gpu-0");
        backend.ReleaseStream();
        var settings = BudgetSettings(backend.BaseAddress);
        ProxyGateway.Route(settings, "plain", "/v1/completions", "vllm");
        await using var gateway = await ProxyGateway.StartAsync(settings);
        const string broken = "{\"stream\":true,\"messages\":[";
        const string unbudgeted = "{\"stream\":true,\"prompt\":\"hi\"}";

        using var first = await gateway.Client.SendAsync(Chat(broken)).WaitAsync(Timeout);
        using var second = await gateway.Client.SendAsync(new HttpRequestMessage(HttpMethod.Post, "/v1/completions") { Content = Json(unbudgeted) }).WaitAsync(Timeout);
        await second.Content.ReadAsStringAsync().WaitAsync(Timeout);

        Assert.Equal([broken, unbudgeted], backend.Bodies.ToArray());
    }

    [Fact]
    public async Task First_byte_timeout_sends_a_call_that_cannot_double_spend_to_the_next_destination()
    {
        await using var stalled = await FakeModelServer.StartAsync("gpu-stalled");
        await using var healthy = await FakeModelServer.StartAsync("gpu-ok");
        stalled.StallStream = true;   // headers, then no token
        healthy.ReleaseStream();
        var clock = new FakeTimeProvider(TestClock.Start);
        var settings = TimeoutSettings(stalled.BaseAddress, healthy.BaseAddress);
        settings["AiEdge:ReverseProxy:Streams:FirstByteTimeout"] = "5s";
        var logs = new LogCapture();
        await using var gateway = await ProxyGateway.StartAsync(settings, logs, clock);
        using var request = Chat("{\"stream\":true,\"messages\":[]}");
        request.Headers.Add("Idempotency-Key", "ttft-1");

        var sending = gateway.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        await WaitUntilAsync(() => !stalled.Requests.IsEmpty);
        clock.Advance(TimeSpan.FromSeconds(5));
        using var response = await sending.WaitAsync(Timeout);
        var stream = await response.Content.ReadAsStringAsync().WaitAsync(Timeout);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("\"Hel\"", stream, StringComparison.Ordinal);
        Assert.EndsWith("data: [DONE]\n\n", stream, StringComparison.Ordinal);
        Assert.Single(healthy.Requests);
        Assert.Contains(logs.WithId(2309), static e => e.Message.Contains("FirstByteTimeout", StringComparison.Ordinal));
        Assert.Empty(logs.Errors());
    }

    [Fact]
    public async Task First_byte_timeout_after_half_an_event_fails_over_and_the_next_destinations_stream_is_metered_alone()
    {
        await using var stalled = await FakeModelServer.StartAsync("gpu-stalled");
        await using var healthy = await FakeModelServer.StartAsync("gpu-ok");
        stalled.StallStream = true;
        stalled.StallPrefix = "data: {\"choices\":[{\"delta\":{\"content\":\"GHOST";   // half an event: nothing to relay
        healthy.ReleaseStream();
        var clock = new FakeTimeProvider(TestClock.Start);
        var settings = BudgetSettings(stalled.BaseAddress);
        ProxyGateway.Cluster(settings, "vllm", stalled.BaseAddress, healthy.BaseAddress);
        settings["ReverseProxy:Clusters:vllm:LoadBalancingPolicy"] = "FirstAlphabetical";
        settings["AiEdge:ReverseProxy:Streams:FirstByteTimeout"] = "5s";
        var logs = new LogCapture();
        await using var gateway = await ProxyGateway.StartAsync(settings, logs, clock);
        using var request = Chat("{\"stream\":true,\"messages\":[]}");
        request.Headers.Add("Idempotency-Key", "ttft-2");

        var sending = gateway.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        await WaitUntilAsync(() => !stalled.Requests.IsEmpty);
        clock.Advance(TimeSpan.FromSeconds(5));
        using var response = await sending.WaitAsync(Timeout);
        var stream = await response.Content.ReadAsStringAsync().WaitAsync(Timeout);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hel\"}}]", stream, StringComparison.Ordinal);
        Assert.DoesNotContain("GHOST", stream, StringComparison.Ordinal);
        Assert.DoesNotContain("prompt_tokens", stream, StringComparison.Ordinal);
        Assert.Contains("\"include_usage\":true", Assert.Single(healthy.Bodies), StringComparison.Ordinal);
        Assert.Equal(18L, await UsedTokensAsync(logs));
    }

    [Fact]
    public async Task First_byte_timeout_of_a_call_that_may_double_spend_is_a_504_problem()
    {
        await using var stalled = await FakeModelServer.StartAsync("gpu-stalled");
        await using var healthy = await FakeModelServer.StartAsync("gpu-ok");
        stalled.Hang = true;   // not even headers
        var clock = new FakeTimeProvider(TestClock.Start);
        var settings = TimeoutSettings(stalled.BaseAddress, healthy.BaseAddress);
        ProxyGateway.Route(settings, "chat", "/v1/chat/completions", "vllm", (AiEdgeRouteMetadata.FirstByteTimeout, "2s"));
        var logs = new LogCapture();
        await using var gateway = await ProxyGateway.StartAsync(settings, logs, clock);

        var sending = gateway.Client.SendAsync(Chat("{\"stream\":true,\"messages\":[]}"));
        await WaitUntilAsync(() => !stalled.Requests.IsEmpty);
        clock.Advance(TimeSpan.FromSeconds(2));
        using var response = await sending.WaitAsync(Timeout);

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.GatewayTimeout);
        Assert.Empty(healthy.Requests);
        Assert.Single(logs.WithId(2310));
        Assert.Empty(logs.Errors());
    }

    [Theory]
    [InlineData("AiEdge:ReverseProxy:Streams:IdleTimeout")]
    [InlineData("AiEdge:ReverseProxy:Streams:TotalTimeout")]
    public async Task Timeout_after_the_first_event_ends_the_stream_with_an_error_event(string key)
    {
        await using var backend = await FakeModelServer.StartAsync("gpu-0");   // holds the stream after its first event
        var clock = new FakeTimeProvider(TestClock.Start);
        var settings = TimeoutSettings(backend.BaseAddress);
        settings[key] = "10s";
        var logs = new LogCapture();
        await using var gateway = await ProxyGateway.StartAsync(settings, logs, clock);

        using var response = await gateway.Client.SendAsync(Chat("{\"stream\":true,\"messages\":[]}"), HttpCompletionOption.ResponseHeadersRead).WaitAsync(Timeout);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync().WaitAsync(Timeout));
        var first = await reader.ReadLineAsync().WaitAsync(Timeout);   // arrives while the backend still holds the rest
        clock.Advance(TimeSpan.FromSeconds(10));
        var rest = await reader.ReadToEndAsync().WaitAsync(Timeout);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("\"Hel\"", first, StringComparison.Ordinal);
        Assert.Contains("event: error\ndata: ", rest, StringComparison.Ordinal);
        Assert.Contains("\"code\":\"backend_stream_timeout\"", rest, StringComparison.Ordinal);
        Assert.EndsWith("\n\n", rest, StringComparison.Ordinal);
        Assert.DoesNotContain("\"lo\"", rest, StringComparison.Ordinal);
        Assert.Single(logs.WithId(2310));
        Assert.Empty(logs.Errors());
    }

    [Fact]
    public async Task Total_timeout_before_anything_was_relayed_is_a_504_problem()
    {
        await using var backend = await FakeModelServer.StartAsync("gpu-0");
        backend.Hang = true;
        var clock = new FakeTimeProvider(TestClock.Start);
        var settings = TimeoutSettings(backend.BaseAddress);
        settings["AiEdge:ReverseProxy:Streams:TotalTimeout"] = "00:01:00";
        await using var gateway = await ProxyGateway.StartAsync(settings, time: clock);

        var sending = gateway.Client.SendAsync(Chat("{\"stream\":true,\"messages\":[]}"));
        await WaitUntilAsync(() => !backend.Requests.IsEmpty);
        clock.Advance(TimeSpan.FromMinutes(1));
        using var response = await sending.WaitAsync(Timeout);

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.GatewayTimeout);
    }

    [Theory]
    [InlineData("AiEdge:ReverseProxy:Streams:IdleTimeout", "-1s")]
    [InlineData("AiEdge:ReverseProxy:Streams:TotalTimeout", "2.00:00:00")]
    public async Task Invalid_timeout_fails_at_startup_naming_its_key(string key, string value)
    {
        var settings = TimeoutSettings(new Uri("http://127.0.0.1:9/"));
        settings[key] = value;

        var exception = await Assert.ThrowsAnyAsync<Exception>(() => ProxyGateway.StartAsync(settings));

        Assert.Contains(key, exception.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(AiEdgeRouteMetadata.IdleTimeout, "soon")]
    [InlineData(AiEdgeRouteMetadata.FirstByteTimeout, "0s")]
    public async Task Invalid_route_timeout_fails_at_startup_naming_the_route_and_key(string key, string value)
    {
        var settings = TimeoutSettings(new Uri("http://127.0.0.1:9/"));
        ProxyGateway.Route(settings, "chat", "/v1/chat/completions", "vllm", (key, value));

        var exception = await Assert.ThrowsAnyAsync<Exception>(() => ProxyGateway.StartAsync(settings));

        Assert.Contains("ReverseProxy:Routes:chat:Metadata:" + key, exception.ToString(), StringComparison.Ordinal);
    }

    private static Dictionary<string, string?> BudgetSettings(Uri backend)
    {
        var settings = new Dictionary<string, string?>
        {
            ["AiEdge:RateLimiting:Tiers:llm:Rate"] = "1000r/s",
            ["AiEdge:RateLimiting:Tiers:llm:Burst"] = "1000",
            ["AiEdge:RateLimiting:Tiers:llm:TokenBudget:Tokens"] = "1000000",
        };
        ProxyGateway.Route(settings, "chat", "/v1/chat/completions", "vllm", (AiEdgeRouteMetadata.RateLimitTier, "llm"));
        ProxyGateway.Cluster(settings, "vllm", backend);
        return settings;
    }

    private static Dictionary<string, string?> TimeoutSettings(params Uri[] destinations)
    {
        var settings = new Dictionary<string, string?>
        {
            ["ReverseProxy:Clusters:vllm:LoadBalancingPolicy"] = "FirstAlphabetical",
        };
        ProxyGateway.Route(settings, "chat", "/v1/chat/completions", "vllm");
        ProxyGateway.Cluster(settings, "vllm", destinations);
        return settings;
    }

    private static async Task<string> ReadStreamAsync(TestApp gateway, HttpRequestMessage request)
    {
        using var response = await gateway.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead).WaitAsync(Timeout);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsStringAsync().WaitAsync(Timeout);
    }

    /// <summary>The tokens the budget was settled at, once the rate limiter has settled (after the endpoint returned).</summary>
    private static async Task<long> UsedTokensAsync(LogCapture logs)
    {
        await WaitUntilAsync(() => logs.WithId(TokensReconciled).Count > 0);
        return Convert.ToInt64(Assert.Single(logs.WithId(TokensReconciled)).Value("Used"), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Waits for something the server does on its own (no time passes on the fake clock meanwhile).</summary>
    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "The condition did not hold in time.");
            await Task.Delay(10);
        }
    }

    private static HttpRequestMessage Chat(string body) => new(HttpMethod.Post, "/v1/chat/completions") { Content = Json(body) };

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");
}
