using System.Net;
using System.Text;
using AiEdge.Middleware.Testing;

namespace AiEdge.Middleware.ReverseProxy.Tests;

/// <summary>
/// A call is sent to another destination only when nothing was relayed yet and it cannot double-spend: a safe
/// method, or a POST carrying <c>Idempotency-Key</c> (sent again with the same body).
/// </summary>
public sealed class RetryTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Refused_get_and_post_with_idempotency_key_are_retried_on_another_destination_plain_post_is_not()
    {
        await using var backend = await FakeModelServer.StartAsync("gpu-ok");
        var settings = new Dictionary<string, string?>
        {
            ["ReverseProxy:Clusters:vllm:LoadBalancingPolicy"] = "FirstAlphabetical",
            ["AiEdge:ReverseProxy:Breakers:vllm:MinimumThroughput"] = "100",   // keep the refusing one in rotation
        };
        ProxyGateway.Route(settings, "models", "/v1/models", "vllm");
        ProxyGateway.Route(settings, "chat", "/v1/chat/completions", "vllm");
        ProxyGateway.Cluster(settings, "vllm", FakeModelServer.RefusingAddress(), backend.BaseAddress);   // d0 refuses, is picked first
        var logs = new LogCapture();
        await using var gateway = await ProxyGateway.StartAsync(settings, logs);

        using var get = await gateway.Client.GetAsync("/v1/models").WaitAsync(Timeout);
        using var keyed = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = Json("{\"model\":\"llama\",\"messages\":[],\"id\":\"keyed\"}") };
        keyed.Headers.Add("Idempotency-Key", "k-1");
        using var keyedResponse = await gateway.Client.SendAsync(keyed).WaitAsync(Timeout);
        using var plain = await gateway.Client.PostAsync("/v1/chat/completions", Json("{\"model\":\"llama\",\"messages\":[],\"id\":\"plain\"}")).WaitAsync(Timeout);

        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        Assert.Equal(HttpStatusCode.OK, keyedResponse.StatusCode);
        Assert.Contains("{\"model\":\"llama\",\"messages\":[],\"id\":\"keyed\"}", backend.Bodies);   // the body was sent again whole
        await ProblemAssert.IsProblemAsync(plain, HttpStatusCode.BadGateway);
        Assert.DoesNotContain(backend.Bodies, b => b.Contains("plain", StringComparison.Ordinal));
        Assert.Equal(2, logs.WithId(2309).Count);
    }

    [Fact]
    public async Task Backend_error_answer_is_never_retried()
    {
        await using var failing = await FakeModelServer.StartAsync("gpu-bad");
        await using var healthy = await FakeModelServer.StartAsync("gpu-ok");
        failing.Status = 500;
        var settings = new Dictionary<string, string?>
        {
            ["ReverseProxy:Clusters:vllm:LoadBalancingPolicy"] = "FirstAlphabetical",
        };
        ProxyGateway.Route(settings, "models", "/v1/models", "vllm");
        ProxyGateway.Cluster(settings, "vllm", failing.BaseAddress, healthy.BaseAddress);
        await using var gateway = await ProxyGateway.StartAsync(settings);

        using var response = await gateway.Client.GetAsync("/v1/models").WaitAsync(Timeout);

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadGateway);
        Assert.Single(failing.Requests);
        Assert.Empty(healthy.Requests);
    }

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");
}
