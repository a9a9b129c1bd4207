using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AiEdge.Middleware.Testing;

namespace AiEdge.Samples.ModelApi.Tests;

public sealed class HealthAcceptanceTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Healthz_Answers200Json_EvenWhenProbedRepeatedly()
    {
        await using var factory = new ModelApiFactory();
        using var client = factory.CreateClient();

        for (var i = 0; i < 30; i++)
        {
            using var response = await client.GetAsync("/healthz").WaitAsync(Wait);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        }
    }

    [Fact]
    public async Task Readyz_Ready_IsJsonWithOverallStatusAndOneEntryPerCheck()
    {
        await using var factory = new ModelApiFactory();
        using var client = factory.CreateClient();

        using var response = await client.GetAsync("/readyz").WaitAsync(Wait);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("Healthy", body.GetProperty("status").GetString());
        Assert.Equal(JsonValueKind.Array, body.GetProperty("checks").ValueKind);
        foreach (var check in body.GetProperty("checks").EnumerateArray())
        {
            Assert.False(string.IsNullOrEmpty(check.GetProperty("name").GetString()));
            Assert.Equal("Healthy", check.GetProperty("status").GetString());
        }
    }

    [Fact]
    public async Task Readyz_BackendPoolDown_Answers503JsonWithTheFailingEntry()
    {
        await using var backend = await FakeModelBackend.StartAsync();
        backend.Mode = FakeBackendMode.Error;
        await using var factory = new ModelApiFactory(new Dictionary<string, string?>
        {
            ["ModelBackend:BaseUrl"] = backend.BaseAddress + "v1",
            ["AiEdge:Resilience:Breakers:model:MinimumThroughput"] = "2",
            ["AiEdge:Health:CacheDuration"] = "00:00:00",
        });
        using var client = factory.CreateClient();

        using (var ready = await client.GetAsync("/readyz").WaitAsync(Wait))
        {
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        }

        for (var i = 0; i < 2; i++)
        {
            using var chat = await client.PostAsJsonAsync("/v1/chat/completions", new { model = "m", messages = new[] { new { role = "user", content = "hi" } } }).WaitAsync(Wait);
            await ProblemAssert.IsProblemAsync(chat, HttpStatusCode.BadGateway);
        }

        using var response = await client.GetAsync("/readyz").WaitAsync(Wait);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.True(response.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1));
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("Unhealthy", body.GetProperty("status").GetString());
        var entry = body.GetProperty("checks").EnumerateArray().Single(c => c.GetProperty("name").GetString() == "backend:model");
        Assert.Equal("Unhealthy", entry.GetProperty("status").GetString());
    }
}
