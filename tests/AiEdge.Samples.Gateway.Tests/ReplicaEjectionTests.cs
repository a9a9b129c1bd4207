using System.Net;
using System.Text;

namespace AiEdge.Samples.Gateway.Tests;

/// <summary>A replica that fails is taken out of the pool by its own breaker; the others carry the traffic.</summary>
public sealed class ReplicaEjectionTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Failing_replica_is_ejected_and_traffic_moves_to_the_healthy_ones()
    {
        await using var healthyA = await FakeVllm.StartAsync("gpu-a");
        await using var failing = await FakeVllm.StartAsync("gpu-bad", failing: true);
        await using var healthyB = await FakeVllm.StartAsync("gpu-b");
        await using var qdrant = await FakeQdrant.StartAsync();
        await using var gateway = new GatewayFactory(
            [healthyA.BaseAddress, failing.BaseAddress, healthyB.BaseAddress],
            qdrant.BaseAddress,
            new Dictionary<string, string?>
            {
                // Open a replica's breaker after 2 calls with half of them failed, for longer than the test runs.
                ["AiEdge:ReverseProxy:Breakers:vllm:MinimumThroughput"] = "2",
                ["AiEdge:ReverseProxy:Breakers:vllm:BreakDuration"] = "00:10:00",
            });
        using var client = new HttpClient { BaseAddress = gateway.StartKestrel() };

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 30; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
            {
                Content = new StringContent("{\"model\":\"llama\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":4}", Encoding.UTF8, "application/json"),
            };
            request.Headers.Add("X-API-Key", GatewayFactory.TeamAKey);
            using var response = await client.SendAsync(request).WaitAsync(Timeout);
            statuses.Add(response.StatusCode);
            if (response.StatusCode != HttpStatusCode.OK)
            {
                // A replica's 5xx becomes the gateway's 502 problem (never relayed raw, never a 500).
                Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
                Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            }
        }

        // The failing replica saw exactly the calls its breaker needed to open; it was never called again.
        Assert.Equal(2, failing.Requests.Count);
        Assert.Equal(2, statuses.Count(s => s == HttpStatusCode.BadGateway));
        Assert.All(statuses.Skip(statuses.LastIndexOf(HttpStatusCode.BadGateway) + 1), s => Assert.Equal(HttpStatusCode.OK, s));
        Assert.Equal(28, healthyA.Requests.Count + healthyB.Requests.Count);
        Assert.True(healthyA.Requests.Count > 0 && healthyB.Requests.Count > 0, "both healthy replicas share the traffic");

        // Readiness shows the pool degraded, naming the ejected replica's state; the gateway stays ready.
        using var ready = await client.GetAsync("/readyz").WaitAsync(Timeout);
        var text = await ready.Content.ReadAsStringAsync().WaitAsync(Timeout);
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Contains("degraded", text, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("open", text, StringComparison.Ordinal);
    }
}
