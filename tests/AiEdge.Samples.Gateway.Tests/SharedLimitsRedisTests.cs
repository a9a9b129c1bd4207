using System.Net;
using AiEdge.Middleware.Testing;

namespace AiEdge.Samples.Gateway.Tests;

/// <summary>Two gateway replicas with <c>AiEdge:Redis:Configuration</c> set enforce one limit (a real redis-server).</summary>
public sealed class SharedLimitsRedisTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Two_gateway_replicas_share_one_rate_limit_through_redis()
    {
        await using var redis = await RedisServerFixture.StartAsync();
        await using var vllm0 = await FakeVllm.StartAsync("gpu-0");
        await using var vllm1 = await FakeVllm.StartAsync("gpu-1");
        await using var vllm2 = await FakeVllm.StartAsync("gpu-2");
        await using var qdrant = await FakeQdrant.StartAsync();
        var settings = new Dictionary<string, string?>
        {
            ["AiEdge:Redis:Configuration"] = redis.Configuration,
            ["AiEdge:Redis:KeyPrefix"] = "gw-test:",
            ["AiEdge:RateLimiting:Tiers:api:Rate"] = "1r/m",
            ["AiEdge:RateLimiting:Tiers:api:Burst"] = "2",
        };
        Uri[] replicas = [vllm0.BaseAddress, vllm1.BaseAddress, vllm2.BaseAddress];
        await using var first = new GatewayFactory(replicas, qdrant.BaseAddress, settings);
        await using var second = new GatewayFactory(replicas, qdrant.BaseAddress, settings);
        using var firstClient = new HttpClient { BaseAddress = first.StartKestrel() };
        using var secondClient = new HttpClient { BaseAddress = second.StartKestrel() };

        // 1 + Burst = 3 requests at once for this client, whichever replica of the gateway they reach.
        Assert.Equal(HttpStatusCode.OK, await GetModelsAsync(firstClient));
        Assert.Equal(HttpStatusCode.OK, await GetModelsAsync(firstClient));
        Assert.Equal(HttpStatusCode.OK, await GetModelsAsync(secondClient));
        Assert.Equal(HttpStatusCode.TooManyRequests, await GetModelsAsync(secondClient));
        Assert.Equal(HttpStatusCode.TooManyRequests, await GetModelsAsync(firstClient));
        Assert.Equal(3, vllm0.Requests.Count + vllm1.Requests.Count + vllm2.Requests.Count);
    }

    private static async Task<HttpStatusCode> GetModelsAsync(HttpClient client)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/models");
        request.Headers.Add("X-API-Key", GatewayFactory.TeamAKey);
        using var response = await client.SendAsync(request).WaitAsync(Timeout);
        if (response.StatusCode == HttpStatusCode.TooManyRequests)
        {
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            Assert.True(int.Parse(Assert.Single(response.Headers.GetValues("Retry-After")), System.Globalization.CultureInfo.InvariantCulture) >= 1);
        }

        return response.StatusCode;
    }
}
